"""The default hand-raise kinds (a demo request, contact sales), and who may
keep them and see the hand-raisers held back."""

from django.db import migrations

DEFAULT_KINDS = ["demo_request", "contact_sales"]

ROLE_CODENAMES = {
    "Marketing ops": [
        "add_handraisekind",
        "change_handraisekind",
        "delete_handraisekind",
        "view_handraisekind",
        "view_heldhandraise",
    ],
    "Sales manager": ["view_handraisekind", "view_heldhandraise"],
}


def create_hand_raise_kinds(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("scoring")
    if getattr(app_config, "models_module", None) is None:  # historical configs have none
        app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_CODENAMES.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="scoring", codename__in=codenames)
        )
    HandRaiseKind = apps.get_model("scoring", "HandRaiseKind")
    for kind in DEFAULT_KINDS:
        HandRaiseKind.objects.get_or_create(kind=kind)


class Migration(migrations.Migration):
    dependencies = [("scoring", "0013_hand_raise_fast_lane")]

    operations = [migrations.RunPython(create_hand_raise_kinds, migrations.RunPython.noop)]
