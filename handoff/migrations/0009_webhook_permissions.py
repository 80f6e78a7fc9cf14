"""Marketing ops manage webhook endpoints and read their delivery log;
integrations manage endpoints through the API (with a token of the
webhooks:manage scope)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ENDPOINT = ["add_webhookendpoint", "change_webhookendpoint", "delete_webhookendpoint",
            "view_webhookendpoint"]
GRANTS = {
    "Marketing ops": [*ENDPOINT, "view_webhookdelivery", "view_webhookattempt",
                      "view_outboxevent"],
    "Integration": ENDPOINT,
}


def grant_webhook_permissions(apps, schema_editor):
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
    dependencies = [("handoff", "0008_outgoing_webhooks")]

    operations = [migrations.RunPython(grant_webhook_permissions, migrations.RunPython.noop)]
