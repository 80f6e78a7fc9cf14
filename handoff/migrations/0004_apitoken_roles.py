"""Marketing ops look after integrations: they issue, read and revoke API
tokens. Sales managers may read them. DRF's own token table goes: its keys
were stored in clear, and handoff.models.ApiToken replaces it."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "Marketing ops": ["add_apitoken", "view_apitoken", "revoke_apitoken"],
    "Sales manager": ["view_apitoken"],
}


def grant_token_permissions(apps, schema_editor):
    app_config = apps.get_app_config("handoff")
    if getattr(app_config, "models_module", None) is None:  # historical configs have none
        app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="handoff",
                                                         codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("handoff", "0003_apitoken"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(grant_token_permissions, migrations.RunPython.noop),
        # Left behind by rest_framework.authtoken, no longer installed.
        migrations.RunSQL("DROP TABLE IF EXISTS authtoken_token", migrations.RunSQL.noop),
    ]
