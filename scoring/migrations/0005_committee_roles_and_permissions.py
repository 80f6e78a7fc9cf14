"""The default buying committee of every existing version, and who may see
account scores and edit committee roles."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# Portable between Python's re and PostgreSQL (no \b: it means backspace there).
DEFAULT_COMMITTEE = [
    ("Decision maker",
     r"(^|[^a-z])(ceo|coo|cro|cmo|chief executive|chief operating|chief revenue|founder|owner"
     r"|president|general manager|managing director|svp|evp|vp|vice president)([^a-z]|$)"),
    ("Champion", r"(^|[^a-z])(head|director|manager|lead)([^a-z]|$)"),
    ("Technical evaluator",
     r"(^|[^a-z])(cto|cio|ciso|it|architect|engineer|engineering|developer|devops|security"
     r"|technical|technology)([^a-z]|$)"),
    ("Finance",
     r"(^|[^a-z])(cfo|finance|financial|controller|procurement|purchasing|treasurer"
     r"|accounting)([^a-z]|$)"),
]

ROLE_PERMISSIONS = {
    "Marketing ops": ["view_accountscore", "add_committeerole", "change_committeerole",
                      "delete_committeerole", "view_committeerole"],
    "Sales manager": ["view_accountscore", "view_committeerole"],
    "SDR": ["view_accountscore"],
    "Integration": ["view_accountscore"],
}


def create_committees_and_grant(apps, schema_editor):
    app_config = apps.get_app_config("scoring")
    if getattr(app_config, "models_module", None) is None:  # historical configs have none
        app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="scoring", codename__in=codenames)
        )

    ScoringModel = apps.get_model("scoring", "ScoringModel")
    CommitteeRole = apps.get_model("scoring", "CommitteeRole")
    for model in ScoringModel.objects.filter(committee_roles__isnull=True):
        CommitteeRole.objects.bulk_create(
            CommitteeRole(model=model, name=name, title_pattern=pattern, position=position)
            for position, (name, pattern) in enumerate(DEFAULT_COMMITTEE)
        )


class Migration(migrations.Migration):
    dependencies = [("scoring", "0004_account_scores")]

    operations = [migrations.RunPython(create_committees_and_grant, migrations.RunPython.noop)]
