import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.management import CommandError, call_command
from django.utils import timezone

from handoff import roles
from handoff.errors import DomainError
from leads import demo
from leads.domains import email_domain, is_personal_domain
from leads.models import Account, Activity, Lead, Stage, StageChange
from tests import factories

# Small enough to keep the suite fast, big enough for every kind of row to show up.
LEADS = 200


@pytest.fixture
def loaded(db):
    return demo.load_demo(leads=LEADS)


def test_seeding_creates_a_login_per_role(db, settings):
    # A fast hasher: the real one spends a third of a second per check, on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    demo.load_demo(leads=LEADS)
    users = {u.username: u for u in User.objects.prefetch_related("groups")}

    assert sorted(users) == ["admin", "max.manager", "mo.ops", "olivia.sdr", "sam.sdr"]
    assert {u: [g.name for g in users[u].groups.all()] for u in users} == {
        "admin": [],
        "max.manager": [roles.SALES_MANAGER],
        "mo.ops": [roles.MARKETING_OPS],
        "olivia.sdr": [roles.SDR],
        "sam.sdr": [roles.SDR],
    }
    assert {u for u in users if users[u].is_staff} == {"admin", "max.manager", "mo.ops"}
    assert {u for u in users if users[u].is_superuser} == {"admin"}
    for user in users.values():
        assert user.check_password(demo.DEMO_PASSWORD) is True
        validate_password(demo.DEMO_PASSWORD, user)  # raises if a validator refuses it


def test_seeding_loads_leads_accounts_and_activities_in_plausible_numbers(loaded):
    assert loaded.loaded is True
    assert loaded.leads == Lead.objects.count() == LEADS
    assert loaded.accounts == Account.objects.count() == LEADS // 10
    assert loaded.activities == Activity.objects.count()
    assert 5 * LEADS <= loaded.activities <= 20 * LEADS
    assert Account.objects.filter(leads=None).count() == 0  # every account has people
    assert 1 <= Account.objects.filter(is_target_account=True).count() < LEADS // 10
    owners = set(Account.objects.exclude(owner=None).values_list("owner__username", flat=True))
    assert owners <= {"sam.sdr", "olivia.sdr"}
    assert owners != set()


def test_seeded_activity_is_skewed_a_few_hot_leads_and_many_cold_ones(loaded):
    per_lead = sorted((lead.activities.count() for lead in Lead.objects.all()), reverse=True)

    assert per_lead[0] >= 40  # the hottest lead
    assert per_lead[len(per_lead) // 2] <= 8  # the median lead
    assert sum(1 for n in per_lead if n <= 3) >= LEADS // 4


def test_seeding_uses_every_activity_kind_and_the_non_eligible_sources(loaded):
    kinds = set(Activity.objects.values_list("kind", flat=True))
    sources = set(Lead.objects.values_list("source__slug", flat=True))

    assert kinds >= {
        "page_view",
        "pricing_page_view",
        "content_download",
        "webinar_registration",
        "webinar_attendance",
        "demo_request",
        "email_open",
        "email_click",
        "form_submit",
    }
    assert sources >= {"event_list_import", "trade_show_badge_scan", "website", "inbound_form"}


def test_every_seeded_activity_happened_within_the_last_90_days(db):
    before = timezone.now()
    demo.load_demo(leads=LEADS)
    after = timezone.now()

    outside = Activity.objects.exclude(
        occurred_at__gt=before - timedelta(days=90), occurred_at__lte=after
    )
    assert outside.count() == 0
    # Leads arrived over the window too, and nobody acted before arriving.
    assert Lead.objects.exclude(created_at__gt=before - timedelta(days=90)).count() == 0
    activities = Activity.objects.select_related("lead")
    assert [a.pk for a in activities if a.occurred_at < a.lead.created_at] == []


def test_free_mail_leads_have_no_account_and_company_leads_join_their_domain(loaded):
    leads = list(Lead.objects.select_related("account"))
    free_mail = [lead for lead in leads if is_personal_domain(email_domain(lead.email))]
    company = [lead for lead in leads if lead not in free_mail]

    assert LEADS * 0.1 <= len(free_mail) <= LEADS * 0.3
    assert [lead.email for lead in free_mail if lead.account_id is not None] == []
    assert [lead.email for lead in company if lead.account.domain != email_domain(lead.email)] == []


def test_seeded_leads_stay_at_the_initial_stage(loaded):
    assert set(Lead.objects.values_list("stage", flat=True)) == {Stage.LEAD}
    assert StageChange.objects.count() == 0


def test_seeding_twice_does_not_duplicate(loaded):
    again = demo.load_demo(leads=LEADS)

    assert again.loaded is False
    assert User.objects.count() == len(demo.DEMO_USERS)
    assert Lead.objects.count() == LEADS
    assert Account.objects.count() == LEADS // 10
    assert Activity.objects.count() == loaded.activities


def test_seeding_refuses_a_database_that_already_has_other_leads(db):
    factories.make_lead("real.person@customer.com")

    with pytest.raises(DomainError):
        demo.load_demo(leads=LEADS)
    assert User.objects.count() == 0
    assert Lead.objects.count() == 1


# The seed_demo command is config's: it loads this data, then scores and
# routes it (tests/test_seed_demo.py). Here, what it says about the data.
def test_command_prints_a_login_per_role_even_when_already_loaded(db):
    first, second = StringIO(), StringIO()
    call_command("seed_demo", leads=50, stdout=first)
    call_command("seed_demo", leads=50, stdout=second)

    assert "Loaded demo data" in first.getvalue()
    assert "already loaded" in second.getvalue()
    for output in (first.getvalue(), second.getvalue()):
        assert "http://127.0.0.1:8000/" in output
        for user in demo.DEMO_USERS:
            line = rf"{re.escape(user.role)} +{re.escape(user.username)} +password handoff-demo"
            assert re.search(line, output) is not None, line
    assert Lead.objects.count() == 50


def test_command_turns_a_refusal_into_a_command_error(db):
    factories.make_lead("real.person@customer.com")

    with pytest.raises(CommandError, match="already holds leads"):
        call_command("seed_demo", leads=50, stdout=StringIO())
