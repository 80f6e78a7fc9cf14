"""Who may read and write outcomes: the CRM integration pushes opportunities,
marketing ops may correct them in the admin, managers read them; both read
SQL qualifications (which only SDRs write, through their lead page)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "Integration": ["add_opportunity", "change_opportunity", "view_opportunity"],
    "Marketing ops": ["change_opportunity", "view_opportunity", "view_sqlqualification"],
    "Sales manager": ["view_opportunity", "view_sqlqualification"],
}


def grant_feedback_permissions(apps, schema_editor):
    app_config = apps.get_app_config("feedback")
    if getattr(app_config, "models_module", None) is None:  # historical configs have none
        app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="feedback", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0001_initial"),
        ("leads", "0002_sources_and_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_feedback_permissions, migrations.RunPython.noop)]
