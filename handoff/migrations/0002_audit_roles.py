"""Marketing ops and sales managers may read the audit trail (nobody edits it)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant_audit_view(apps, schema_editor):
    app_config = apps.get_app_config("handoff")
    if getattr(app_config, "models_module", None) is None:  # historical configs have none
        app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(content_type__app_label="handoff",
                                        codename="view_auditentry")
    for role in ("Marketing ops", "Sales manager"):
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("handoff", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_audit_view, migrations.RunPython.noop)]
