"""Lead sources and the role groups with the permissions each needs."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SOURCES = [
    # slug, name, eligible for MQL through the inbound model
    ("inbound_form", "Inbound form", True),
    ("website", "Website", True),
    ("webinar", "Webinar", True),
    ("content", "Content", True),
    ("event_list_import", "Event list import", False),
    ("trade_show_badge_scan", "Trade-show badge scan", False),
    ("cold_list", "Cold list", False),
    ("partner", "Partner", True),
    ("api", "API", True),
]

LEADS_MODELS = ["account", "lead", "activity", "stagechange", "leadsource", "leadmerge"]

ROLE_PERMISSIONS = {
    "SDR": ["view_account", "view_lead", "view_activity", "view_stagechange", "view_leadsource"],
    "Sales manager": [
        "view_account", "change_account", "view_lead", "view_activity", "view_stagechange",
        "view_leadsource", "view_leadmerge",
    ],
    "Marketing ops": [
        f"{action}_{model}"
        for model in LEADS_MODELS
        for action in ("add", "change", "delete", "view")
    ],
    "Integration": [
        "add_account", "change_account", "view_account", "add_lead", "change_lead",
        "view_lead", "add_activity", "view_activity", "view_leadsource",
    ],
}


def create_sources_and_roles(apps, schema_editor):
    # Permissions are normally created after migrate; create them now so the
    # groups can be granted them in this same migration.
    app_config = apps.get_app_config("leads")
    if getattr(app_config, "models_module", None) is None:  # historical configs have none
        app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)

    LeadSource = apps.get_model("leads", "LeadSource")
    for slug, name, eligible in SOURCES:
        LeadSource.objects.update_or_create(
            slug=slug, defaults={"name": name, "mql_eligible": eligible}
        )

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="leads", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_sources_and_roles, migrations.RunPython.noop)]
