"""Account (ABM) scores: capped contact engagement, engaged contacts, buying-
committee coverage, MQA crossings in the audit trail, and the SQL and Python
paths giving the same facts.

Under the installed version: an account of 200 employees or more has fit 10;
each contact adds at most 40 engagement; a contact is engaged from 10; an MQA
needs fit ≥ 0, engagement ≥ 60, 2 engaged contacts and 50 % of the four
committee roles (decision maker, champion, technical evaluator, finance).
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handoff.models import AuditEntry
from leads.models import Account, Activity, Lead, LeadSource
from scoring import services
from scoring.models import AccountScore, CommitteeRole, LeadScore, Rule, ScoringModel
from scoring.selectors import live_model
from scoring.services import accounts
from scoring.services.accounts import (
    AccountFacts,
    ContactFacts,
    account_model,
    facts_python,
    facts_sql,
    score_accounts,
)
from tests import factories


def company(domain: str = "acme.com", *, employees: int | None = 500, **fields) -> Account:
    return Account.objects.create(
        name=domain.split(".")[0].title(), domain=domain, employee_count=employees, **fields
    )


def contact(
    account: Account,
    title: str,
    engagement: str,
    *,
    department: str = "",
    disqualified: bool = False,
) -> Lead:
    """A lead of the account with a stored score of that engagement."""
    lead = factories.make_lead(account=account, title=title, department=department)
    LeadScore.objects.create(
        lead=lead,
        model=live_model(),
        fit=0,
        engagement=Decimal(engagement),
        total=Decimal(engagement),
        grade="C",
        disqualified=disqualified,
        qualifies=False,
        explanation=[],
        scored_at=timezone.now(),
    )
    return lead


def score_of(account: Account) -> AccountScore:
    return AccountScore.objects.get(account=account)


def set_engagement(lead: Lead, engagement: str) -> None:
    LeadScore.objects.filter(lead=lead).update(engagement=Decimal(engagement))


# --- the worked examples ---------------------------------------------------------------


def test_one_very_busy_contact_adds_only_the_contact_cap_and_cannot_qualify_an_account(db):
    acme = company()
    ceo = contact(acme, "CEO", "100")

    result = score_accounts(account_ids=[acme.pk])

    score = score_of(acme)
    assert result == accounts.AccountScoringResult(scored=1, became_mqa=0, stopped_mqa=0)
    assert (score.fit, score.engagement, score.total) == (
        Decimal("10"),
        Decimal("40"),
        Decimal("50"),
    )
    assert (score.engaged_contacts, score.roles_filled, score.coverage) == (
        1,
        ["Decision maker"],
        25,
    )
    assert score.qualified is False
    assert score.explanation == {
        "fit": [
            {
                "rule_id": Rule.objects.get(
                    model=live_model(), name="Company of 200 employees or more"
                ).pk,
                "rule": "Company of 200 employees or more",
                "layer": "firmographic",
                "points": 10,
                "disqualifies": False,
            }
        ],
        "contacts": [
            {
                "lead_id": ceo.pk,
                "engagement": 100,
                "counted": 40,
                "engaged": True,
                "roles": ["Decision maker"],
            }
        ],
        "contacts_scored": 1,
        "checks": [
            {"check": "fit", "value": 10, "minimum": 0, "met": True},
            {"check": "engagement", "value": 40, "minimum": 60, "met": False},
            {"check": "engaged_contacts", "value": 1, "minimum": 2, "met": False},
            {"check": "coverage", "value": 25, "minimum": 50, "met": False},
        ],
    }


def test_engaged_contacts_are_those_from_the_threshold_and_disqualified_ones_count_for_nothing(
    db,
):
    acme = company()
    at_threshold = contact(acme, "Marketing Coordinator", "10")
    just_below = contact(acme, "Analyst", "9.99")
    contact(acme, "Assistant", "0")
    contact(acme, "CFO", "50", disqualified=True)  # e.g. do not contact
    factories.make_lead(account=acme, title="CTO")  # not scored yet

    score_accounts(account_ids=[acme.pk])

    score = score_of(acme)
    assert score.engagement == Decimal("19.99")  # 10 + 9.99 + 0
    assert score.engaged_contacts == 1
    assert score.roles_filled == []
    assert score.explanation["contacts_scored"] == 3
    assert [c["lead_id"] for c in score.explanation["contacts"]] == [at_threshold.pk, just_below.pk]


def test_committee_coverage_is_the_share_of_roles_engaged_contacts_fill(db):
    acme = company()
    contact(acme, "Chief Financial Officer", "20")  # finance
    contact(acme, "Senior Software Engineer", "15")  # technical evaluator
    contact(acme, "Marketing Coordinator", "30")  # engaged, but no committee role
    contact(acme, "CEO", "5")  # a decision maker, but not engaged: fills nothing

    score_accounts(account_ids=[acme.pk])

    score = score_of(acme)
    assert score.roles_filled == ["Technical evaluator", "Finance"]
    assert score.coverage == 50  # 2 of 4
    assert score.engaged_contacts == 3
    assert score.engagement == Decimal("70")
    assert score.qualified is True


def test_coverage_is_rounded_down_and_a_department_pattern_must_match_too(db):
    draft = services.clone_model(source=live_model(), by=None)
    draft.committee_roles.filter(name="Champion").delete()  # three roles left
    CommitteeRole.objects.filter(model=draft, name="Finance").update(
        title_pattern="director", department_pattern="^finance$"
    )
    acme = company()
    contact(acme, "Director", "20", department="Sales")  # not finance: fills nothing
    contact(acme, "VP Sales", "20")  # decision maker

    score_accounts(account_ids=[acme.pk], model=draft)
    assert (score_of(acme).roles_filled, score_of(acme).coverage) == (["Decision maker"], 33)

    contact(acme, "Director", "20", department="Finance")
    score_accounts(account_ids=[acme.pk], model=draft)
    assert (score_of(acme).roles_filled, score_of(acme).coverage) == (
        ["Decision maker", "Finance"],
        66,
    )


def test_becoming_and_ceasing_to_be_an_mqa_are_each_recorded_once(db):
    acme = company()
    contact(acme, "CEO", "50")  # 40 counted; decision maker
    director = contact(acme, "Director of IT", "30")  # champion and technical evaluator

    became = score_accounts(account_ids=[acme.pk])
    again = score_accounts(account_ids=[acme.pk])
    assert (score_of(acme).engagement, score_of(acme).coverage) == (Decimal("70"), 75)
    assert score_of(acme).qualified is True

    set_engagement(director, "5")
    stopped = score_accounts(account_ids=[acme.pk])

    assert score_of(acme).qualified is False
    assert (became.became_mqa, again.became_mqa, stopped.stopped_mqa) == (1, 0, 1)
    entries = AuditEntry.objects.filter(object_id=str(acme.pk)).order_by("id")
    assert [(e.action, e.changes, e.content_type.model, e.actor) for e in entries] == [
        ("became MQA", {"qualified": [False, True]}, "account", None),
        ("no longer MQA", {"qualified": [True, False]}, "account", None),
    ]
    assert entries[0].note == (
        "Fit 10.00, engagement 70.00, 2 engaged contacts, committee 75% (model v1)"
    )


def test_a_disqualifier_on_the_account_fields_keeps_it_from_being_an_mqa(db):
    draft = services.clone_model(source=live_model(), by=None)
    Rule.objects.create(
        model=draft,
        layer="firmographic",
        name="Named account",
        field="account.is_target_account",
        operator="is_true",
        points=20,
    )
    Rule.objects.create(
        model=draft,
        layer="demographic",
        name="US",
        field="country",
        operator="equals",
        value="US",
        points=50,
    )  # a lead's field: ignored
    Rule.objects.create(
        model=draft,
        layer="disqualifier",
        name="Competitor",
        field="account.domain",
        operator="in",
        value=["rival.com"],
    )
    target = company("target.com", is_target_account=True)
    rival = company("rival.com", is_target_account=True)
    for account in (target, rival):
        contact(account, "CEO", "40")
        contact(account, "Head of Finance", "40")

    score_accounts(account_ids=[target.pk, rival.pk], model=draft)

    assert (score_of(target).fit, score_of(target).qualified) == (Decimal("30"), True)
    assert (score_of(rival).fit, score_of(rival).disqualified, score_of(rival).qualified) == (
        Decimal("30"),
        True,
        False,
    )
    assert [line["rule"] for line in score_of(rival).explanation["fit"]] == [
        "Named account",
        "Company of 200 employees or more",
        "Competitor",
    ]


def test_an_account_without_contacts_has_its_fit_only_and_unknown_accounts_are_skipped(db):
    tiny = company("tiny.io", employees=4)

    result = score_accounts(account_ids=[tiny.pk, tiny.pk + 1000])

    assert result.scored == 1
    score = score_of(tiny)
    assert (score.fit, score.engagement, score.total, score.engaged_contacts) == (
        Decimal("-30"),
        Decimal("0"),
        Decimal("-30"),
        0,
    )


def test_a_version_without_committee_roles_is_fully_covered(db):
    draft = services.clone_model(source=live_model(), by=None)
    draft.committee_roles.all().delete()
    acme = company()

    score_accounts(account_ids=[acme.pk], model=draft)

    assert (score_of(acme).coverage, score_of(acme).roles_filled) == (100, [])


# --- the committee template ---------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "roles"),
    [
        ("CEO", ["Decision maker"]),
        ("VP Sales", ["Decision maker"]),
        ("Head of IT", ["Champion", "Technical evaluator"]),
        ("Engineering Manager", ["Champion", "Technical evaluator"]),
        ("CFO", ["Finance"]),
        ("Procurement Lead", ["Champion", "Finance"]),
        ("Account Executive", []),
        ("Credit analyst", []),  # "it" inside a word is not IT
    ],
)
def test_the_default_committee_recognises_titles(db, title, roles):
    acme = company()
    contact(acme, title, "20")

    score_accounts(account_ids=[acme.pk])

    assert score_of(acme).roles_filled == roles


def test_the_installed_version_has_the_default_committee(db):
    assert list(live_model().committee_roles.values_list("position", "name")) == [
        (0, "Decision maker"),
        (1, "Champion"),
        (2, "Technical evaluator"),
        (3, "Finance"),
    ]


def test_a_committee_role_refuses_a_pattern_that_differs_between_python_and_postgresql(db):
    role = CommitteeRole(model=live_model(), name="Buyer", title_pattern=r"\bbuyer\b")

    with pytest.raises(ValidationError) as error:
        role.full_clean()

    assert list(error.value.message_dict) == ["title_pattern"]


def test_a_clone_keeps_the_committee_and_the_account_thresholds(db):
    live = live_model()
    ScoringModel.objects.filter(pk=live.pk).update(account_contact_cap=25, account_min_coverage=75)
    live.refresh_from_db()

    draft = services.clone_model(source=live, by=None)

    assert (draft.account_contact_cap, draft.account_min_coverage) == (25, 75)
    assert list(draft.committee_roles.values_list("name", "title_pattern", "position")) == list(
        live.committee_roles.values_list("name", "title_pattern", "position")
    )


# --- the hand-off from lead scoring ------------------------------------------------------


@pytest.fixture
def account_messages(monkeypatch):
    """scoring.score_accounts messages are recorded instead of sent."""
    sent: list[list[int]] = []
    monkeypatch.setattr(
        "scoring.tasks.refresh_account_scores.delay",
        lambda *, account_ids: sent.append(account_ids),
    )
    return sent


def test_rescoring_leads_scores_their_accounts_after_commit(
    db, account_messages, django_capture_on_commit_callbacks
):
    acme, globex = company(), company("globex.com")
    leads = [
        factories.make_lead(account=acme),
        factories.make_lead(account=acme),
        factories.make_lead(account=globex),
        factories.make_lead(),
    ]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.rescore_leads(lead_ids=[lead.pk for lead in leads])
    assert account_messages == []  # nothing before the commit
    for callback in callbacks:
        callback()

    assert account_messages == [sorted([acme.pk, globex.pk])]


def test_scoring_one_lead_scores_its_account_after_commit(
    db, account_messages, django_capture_on_commit_callbacks
):
    acme = company()
    lead = factories.make_lead(account=acme)
    loner = factories.make_lead()

    with django_capture_on_commit_callbacks(execute=True):
        services.score_lead(lead_id=lead.pk)
        services.score_lead(lead_id=loner.pk)

    assert account_messages == [[acme.pk]]


def test_scoring_one_lead_again_scores_its_account_only_when_its_part_in_it_moved(
    db, account_messages, django_capture_on_commit_callbacks
):
    """The account counts a contact's engagement and disqualification: scoring
    the lead again with neither changed leaves the account alone."""
    acme = company()
    lead = factories.make_lead(account=acme)
    now = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        services.score_lead(lead_id=lead.pk, as_of=now)  # its first score
        services.score_lead(lead_id=lead.pk, as_of=now)  # nothing moved
    assert account_messages == [[acme.pk]]

    factories.make_activity(
        lead, "page_view", url="https://www.acme.example/careers/", occurred_at=now
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.score_lead(lead_id=lead.pk, as_of=now)  # a job seeker: disqualified
    factories.make_activity(lead, "demo_request", occurred_at=now)
    with django_capture_on_commit_callbacks(execute=True):
        services.score_lead(lead_id=lead.pk, as_of=now)  # 30 more engagement
        services.score_lead(lead_id=lead.pk, as_of=now)  # nothing moved

    assert account_messages == [[acme.pk], [acme.pk], [acme.pk]]
    assert LeadScore.objects.get(lead=lead).disqualified is True


def test_the_sweep_scores_accounts_left_behind_their_contacts(db):
    """A lead scored with an event of the last day, its account's message
    lost: the sweep scores the account, once; a lead scored within the
    settling time is left to its own message."""
    acme, quiet = company(), company("quiet.com")
    lead = factories.make_lead(account=acme)
    factories.make_lead(account=quiet)  # no event: left alone
    now = timezone.now()
    ten_minutes_ago = now - timedelta(minutes=10)
    activity = factories.make_activity(lead, "demo_request", occurred_at=ten_minutes_ago)
    Activity.objects.filter(pk=activity.pk).update(received_at=ten_minutes_ago)
    # Inside the test's transaction, the on-commit message is never sent: lost.
    services.score_lead(lead_id=lead.pk, as_of=now - timedelta(minutes=5))
    assert not AccountScore.objects.exists()

    assert services.sweep_stale_account_scores() == 1
    assert list(AccountScore.objects.values_list("account_id", "engaged_contacts")) == [
        (acme.pk, 1)
    ]
    assert services.sweep_stale_account_scores() == 0  # caught up

    services.score_lead(lead_id=lead.pk)  # just now
    assert services.sweep_stale_account_scores() == 0
    assert services.sweep_stale_account_scores(settle=timedelta(0)) == 1


def test_account_scores_follow_the_engine_from_events(db):
    """From activity to account: the CEO requested a demo (30), the head of IT
    saw pricing twice (20, capped at 20) and requested a demo (30): 30 + 40."""
    acme = company()
    ceo = factories.make_lead("ceo@acme.com", account=acme, title="CEO")
    head = factories.make_lead("it@acme.com", account=acme, title="Head of IT")
    factories.make_activity(ceo, "demo_request")
    factories.make_activity(head, "pricing_page_view")
    factories.make_activity(head, "pricing_page_view")
    factories.make_activity(head, "demo_request")
    services.rescore_leads(lead_ids=[ceo.pk, head.pk])

    score_accounts(account_ids=[acme.pk])

    score = score_of(acme)
    assert (score.engagement, score.engaged_contacts, score.coverage) == (Decimal("70"), 2, 75)
    assert [
        (c["lead_id"], c["engagement"], c["counted"]) for c in score.explanation["contacts"]
    ] == [(head.pk, 50, 40), (ceo.pk, 30, 30)]
    assert score.qualified is True


# --- the two paths ---------------------------------------------------------------------


def test_the_sql_and_python_paths_gather_the_same_facts(db):
    acme, empty = company(), company("empty.io", employees=None)
    ceo = contact(acme, "CEO", "100")
    head = contact(acme, "Head of IT", "12.5")
    contact(acme, "Intern", "0")
    low = contact(acme, "CFO", "-5")
    contact(acme, "Director", "30", disqualified=True)
    am = account_model(live_model())
    as_of = timezone.now()

    from_sql = facts_sql(am, [acme.pk, empty.pk], as_of=as_of)
    from_python = facts_python(am, [acme, empty], as_of=as_of)

    assert from_sql == from_python
    assert from_sql[acme.pk] == AccountFacts(
        account_id=acme.pk,
        rule_hits=(True, False),
        engagement_cents=4000 + 1250 + 0 - 500,
        engaged_contacts=2,
        roles_filled=(True, True, True, False),
        contacts_scored=4,
        top_contacts=(
            ContactFacts(
                lead_id=ceo.pk, engagement_cents=10000, counted_cents=4000, engaged=True, roles=(0,)
            ),
            ContactFacts(
                lead_id=head.pk,
                engagement_cents=1250,
                counted_cents=1250,
                engaged=True,
                roles=(1, 2),
            ),
            ContactFacts(
                lead_id=low.pk, engagement_cents=-500, counted_cents=-500, engaged=False, roles=()
            ),
        ),
    )
    assert from_sql[empty.pk] == AccountFacts(
        account_id=empty.pk,
        rule_hits=(False, False),
        engagement_cents=0,
        engaged_contacts=0,
        roles_filled=(False, False, False, False),
        contacts_scored=0,
        top_contacts=(),
    )


def test_blank_titles_and_departments_fill_no_role_on_either_path(db):
    """Blank text is "not set", as in the engine, even for a pattern that
    matches blank text."""
    draft = services.clone_model(source=live_model(), by=None)
    draft.committee_roles.all().delete()
    CommitteeRole.objects.create(model=draft, name="Anyone", title_pattern="x?")
    CommitteeRole.objects.create(
        model=draft, name="Anyone in a team", title_pattern="x?", department_pattern="x?"
    )
    acme = company()
    contact(acme, "", "20", department="Sales")
    contact(acme, "Buyer", "20")
    am = account_model(draft)
    as_of = timezone.now()

    from_sql = facts_sql(am, [acme.pk], as_of=as_of)
    from_python = facts_python(am, [acme], as_of=as_of)

    assert from_sql[acme.pk].roles_filled == from_python[acme.pk].roles_filled == (True, False)


AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TITLES = [
    "CEO",
    "VP Sales",
    "Head of IT",
    "Chief Financial Officer",
    "Software Engineer",
    "intern",
    "",
    "",
    "Director, Finance",
    "IT",
    "credit analyst",
]
DEPARTMENTS = ["", "", "Finance", "IT", "Sales"]
TITLE_PATTERNS = [
    "(^|[^a-z])(ceo|vp)([^a-z]|$)",
    "head|director",
    "^it$",
    "finance",
    "engineer$",
    "[0-9]",
    "^[a-z]*$",
    "x?",
]  # the last two match blank text
DEPARTMENT_PATTERNS = ["", "^it$", "fin", "sales|marketing", "^[a-z]*$", "x?"]
ACCOUNT_CONDITIONS = [
    ("account.employee_count", "gte", 200),
    ("account.employee_count", "lt", 10),
    ("account.employee_count", "between", [10, 200]),
    ("account.employee_count", "is_set", None),
    ("account.industry", "equals", "software"),
    ("account.industry", "regex", "^soft"),
    ("account.industry", "in", ["Retail", "software"]),
    ("account.is_target_account", "is_true", None),
    ("account.last_funding_date", "within_days", 30),
    ("account.country", "contains", "us"),
]

contact_spec = st.fixed_dictionaries(
    {
        "title": st.sampled_from(TITLES),
        "department": st.sampled_from(DEPARTMENTS),
        # Values on and next to the caps and thresholds below, as well as any.
        "engagement": st.one_of(
            st.none(), st.integers(-3000, 15000), st.sampled_from([0, 999, 1000, 1001, 2000, 4000])
        ),
        "disqualified": st.booleans(),
    }
)
account_spec = st.fixed_dictionaries(
    {
        "employees": st.one_of(st.none(), st.integers(0, 1000)),
        "industry": st.sampled_from(["Software", "software", "Retail", ""]),
        "country": st.sampled_from(["US", "Russia", "France", ""]),
        "target": st.booleans(),
        "funded_days_ago": st.one_of(st.none(), st.integers(0, 90)),
        "contacts": st.lists(contact_spec, max_size=6),
    }
)
rule_spec = st.tuples(
    st.sampled_from(["firmographic", "disqualifier"]),
    st.sampled_from(ACCOUNT_CONDITIONS),
    st.integers(-30, 30),
)
role_spec = st.tuples(st.sampled_from(TITLE_PATTERNS), st.sampled_from(DEPARTMENT_PATTERNS))


@pytest.mark.django_db
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    cap=st.one_of(st.sampled_from([0, 10, 20, 40]), st.integers(0, 60)),
    engaged_at=st.one_of(st.sampled_from([0, 10, 20]), st.integers(-10, 40)),
    rule_specs=st.lists(rule_spec, max_size=4),
    role_specs=st.lists(role_spec, max_size=4),
    account_specs=st.lists(account_spec, min_size=1, max_size=3),
)
def test_the_sql_and_python_paths_agree_on_random_accounts(
    cap, engaged_at, rule_specs, role_specs, account_specs
):
    with transaction.atomic():
        model = ScoringModel.objects.create(
            name="random", version=1000, account_contact_cap=cap, account_engaged_at=engaged_at
        )
        for position, (layer, (field, operator, value), points) in enumerate(rule_specs):
            Rule.objects.create(
                model=model,
                layer=layer,
                name=f"rule {position}",
                position=position,
                field=field,
                operator=operator,
                value=value,
                points=points,
            )
        for position, (title, department) in enumerate(role_specs):
            CommitteeRole.objects.create(
                model=model,
                name=f"role {position}",
                position=position,
                title_pattern=title,
                department_pattern=department,
            )
        source = LeadSource.objects.get(slug="inbound_form")
        created = []
        for n, spec in enumerate(account_specs):
            account = Account.objects.create(
                name=f"A{n}",
                domain=f"a{n}.example",
                employee_count=spec["employees"],
                industry=spec["industry"],
                country=spec["country"],
                is_target_account=spec["target"],
                last_funding_date=(AS_OF - timedelta(days=spec["funded_days_ago"])).date()
                if spec["funded_days_ago"] is not None
                else None,
            )
            created.append(account)
            for m, c in enumerate(spec["contacts"]):
                lead = Lead.objects.create(
                    external_id=f"{n}-{m}",
                    account=account,
                    title=c["title"],
                    department=c["department"],
                    source=source,
                )
                if c["engagement"] is not None:
                    LeadScore.objects.create(
                        lead=lead,
                        model=model,
                        fit=0,
                        engagement=Decimal(c["engagement"]).scaleb(-2),
                        total=0,
                        grade="D",
                        disqualified=c["disqualified"],
                        qualifies=False,
                        explanation=[],
                        scored_at=AS_OF,
                    )
        am = account_model(model)

        # Few explained contacts, so that the cut-off is exercised too.
        with mock.patch.object(accounts, "EXPLAINED_CONTACTS", 2):
            from_sql = facts_sql(am, [a.pk for a in created], as_of=AS_OF)
            from_python = facts_python(am, created, as_of=AS_OF)

        assert from_sql == from_python
        transaction.set_rollback(True)


def test_lead_and_account_scoring_read_every_account_field_the_same_way(db):
    from scoring.fields import ACCOUNT_PREFIX, FIELDS, account_values, lead_values

    account = company(industry="", country="DE", is_target_account=True)
    lead = factories.make_lead(account=account)
    account_fields = {name for name in FIELDS if name.startswith(ACCOUNT_PREFIX)}

    assert set(account_values(account)) == account_fields
    assert set(account_values(None)) == account_fields
    assert {k: v for k, v in lead_values(lead).items() if k in account_fields} == account_values(
        account
    )
    assert account_values(account)["account.industry"] is None  # blank is "not set"
