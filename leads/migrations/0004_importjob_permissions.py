"""Marketing ops import lead lists, so they get the ImportJob permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = ["add_importjob", "change_importjob", "delete_importjob", "view_importjob"]


def grant_import_permissions(apps, schema_editor):
    # Permissions are normally created after migrate; create them now so the
    # group can be granted them in this same migration.
    app_config = apps.get_app_config("leads")
    if getattr(app_config, "models_module", None) is None:  # historical configs have none
        app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Marketing ops")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="leads", codename__in=CODENAMES)
    )


class Migration(migrations.Migration):
    dependencies = [("leads", "0003_importjob")]

    operations = [migrations.RunPython(grant_import_permissions, migrations.RunPython.noop)]
