"""Marketing ops keep accounts' other domains: they add, change and remove them."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = [
    "add_accountdomain",
    "change_accountdomain",
    "delete_accountdomain",
    "view_accountdomain",
]


def grant_account_domain_permissions(apps, schema_editor):
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
    dependencies = [("leads", "0021_accounts_with_several_domains")]

    operations = [migrations.RunPython(grant_account_domain_permissions, migrations.RunPython.noop)]
