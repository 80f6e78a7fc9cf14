"""The default model's pattern rules say in words what they match.

The senior-title pattern stays a pattern: "contains any of" would not mean
exactly the same (the pattern takes c?o for any letter, and a digit, an
underscore or a non-ASCII letter next to the role as a word's edge), so its
rule gets a description instead, as the student-email and job-seeker rules
do. Only rules still holding the shipped pattern and no description change.
"""

from django.db import migrations

SENIOR_TITLES = (
    r"(^|[^a-z])(chief|c[a-z]o|vp|svp|evp|vice president|head|director|founder|owner"
    r"|president)([^a-z]|$)"
)
STUDENT_DOMAINS = r"(\.edu|\.ac\.[a-z]{2}|\.edu\.[a-z]{2})$"
CAREERS = r"/(careers|jobs)(/|$)"

DESCRIPTIONS = [
    (
        {"field": "title", "operator": "regex", "value": SENIOR_TITLES},
        "names a senior role (chief, a C-level such as CEO or CTO, VP, SVP, EVP, vice "
        "president, head, director, founder, owner or president)",
    ),
    (
        {"field": "email_domain", "operator": "regex", "value": STUDENT_DOMAINS},
        "is a school's or university's (it ends in .edu, .ac.xx or .edu.xx)",
    ),
    ({"url_pattern": CAREERS}, "on a careers or jobs page"),
]


def describe(apps, schema_editor):
    Rule = apps.get_model("scoring", "Rule")
    for match, description in DESCRIPTIONS:
        Rule.objects.filter(description__isnull=True, **match).update(description=description)


def forget(apps, schema_editor):
    Rule = apps.get_model("scoring", "Rule")
    for match, description in DESCRIPTIONS:
        Rule.objects.filter(description=description, **match).update(description=None)


class Migration(migrations.Migration):
    dependencies = [("scoring", "0008_rule_description_and_phrase_operators")]

    operations = [migrations.RunPython(describe, forget)]
