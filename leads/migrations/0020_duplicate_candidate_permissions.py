"""Marketing ops review likely duplicates: they see the pairs and dismiss them."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = ["view_duplicatecandidate", "change_duplicatecandidate"]


def grant_duplicate_permissions(apps, schema_editor):
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
    dependencies = [("leads", "0019_merges_keep_history_and_duplicate_candidates")]

    operations = [migrations.RunPython(grant_duplicate_permissions, migrations.RunPython.noop)]
