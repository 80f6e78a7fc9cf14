"""The textbook default model, published so a new installation scores from the
first minute, and the scoring permissions of each role."""

from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.utils import timezone

# Portable between Python's re and PostgreSQL (no \b: it means backspace there).
SENIOR_TITLES = (
    r"(^|[^a-z])(chief|c[a-z]o|vp|svp|evp|vice president|head|director|founder|owner"
    r"|president)([^a-z]|$)"
)
STUDENT_DOMAINS = r"(\.edu|\.ac\.[a-z]{2}|\.edu\.[a-z]{2})$"

# layer, name, settings
DEFAULT_RULES = [
    ("demographic", "Senior title", {"field": "title", "operator": "regex",
                                     "value": SENIOR_TITLES, "points": 15}),
    ("demographic", "Student email", {"field": "email_domain", "operator": "regex",
                                      "value": STUDENT_DOMAINS, "points": -50}),
    ("firmographic", "Company of 200 employees or more",
     {"field": "account.employee_count", "operator": "gte", "value": 200, "points": 10}),
    ("firmographic", "Company of fewer than 10 employees",
     {"field": "account.employee_count", "operator": "lt", "value": 10, "points": -30}),
    ("engagement", "Demo request", {"activity_kinds": ["demo_request"], "points": 30,
                                    "window_days": 90}),
    ("engagement", "Pricing page visit", {"activity_kinds": ["pricing_page_view"], "points": 20,
                                          "window_days": 90, "cap": 20}),
    ("engagement", "Content download", {"activity_kinds": ["content_download"], "points": 5,
                                        "window_days": 90, "cap": 15, "half_life_days": 30}),
    ("disqualifier", "Do not contact", {"field": "do_not_contact", "operator": "is_true"}),
    ("disqualifier", "Job seeker (careers pages)",
     {"activity_kinds": ["page_view"], "url_pattern": r"/(careers|jobs)(/|$)",
      "window_days": 30}),
]

ROLE_PERMISSIONS = {
    "Marketing ops": [
        "add_scoringmodel", "change_scoringmodel", "delete_scoringmodel", "view_scoringmodel",
        "publish_scoringmodel", "add_rule", "change_rule", "delete_rule", "view_rule",
        "view_leadscore", "view_mqlsnapshot",
    ],
    "Sales manager": [
        "view_scoringmodel", "approve_scoringmodel", "view_rule", "view_leadscore",
        "view_mqlsnapshot",
    ],
    "SDR": ["view_leadscore"],
    "Integration": ["view_leadscore"],
}


def create_default_model(apps, schema_editor):
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
    if ScoringModel.objects.exists():
        return
    now = timezone.now()
    model = ScoringModel.objects.create(
        name="Default (textbook) model", version=1, status="published",
        notes="Created with the installation: senior title, company size, demo request, "
              "pricing page, content downloads; students and tiny companies count against.",
        threshold=75, min_fit=10, min_engagement=20,
        submitted_at=now, approved_at=now, published_at=now,
    )
    LeadSource = apps.get_model("leads", "LeadSource")
    model.eligible_sources.set(LeadSource.objects.filter(mql_eligible=True))
    Rule = apps.get_model("scoring", "Rule")
    for position, (layer, name, settings) in enumerate(DEFAULT_RULES):
        Rule.objects.create(model=model, layer=layer, name=name, position=position, **settings)


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0001_initial"),
        ("leads", "0002_sources_and_roles"),
    ]

    operations = [migrations.RunPython(create_default_model, migrations.RunPython.noop)]
