"""Marketing ops answer people's requests about their data: they may erase a
person, export one, and read the erasures done. These are permissions of
their own, so a site can take erasing from the role and give it to a few."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = ["erase_person", "export_person", "view_erasure"]


def grant_privacy_permissions(apps, schema_editor):
    # Permissions are normally created after migrate; create them now so the
    # group can be granted them in this same migration.
    app_config = apps.get_app_config("privacy")
    if getattr(app_config, "models_module", None) is None:  # historical configs have none
        app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Marketing ops")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="privacy", codename__in=CODENAMES)
    )


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_erasures")]

    operations = [migrations.RunPython(grant_privacy_permissions, migrations.RunPython.noop)]
