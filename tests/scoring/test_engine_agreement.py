"""The Python engine (one lead) and the SQL path (set-wise) agree on every
number and every line of explanation, and on who qualifies and who goes to
nurture (fit only), over random models, leads and activities; and every
explanation adds up to its score."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.models import Account, Activity, Lead, LeadSource, LeadTouch
from scoring import bulk
from scoring.engine import Condition, condition_holds
from scoring.fields import FieldType
from scoring.models import Layer, Rule, ScoringModel
from scoring.selectors import compiled_model
from scoring.services import score_one

AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WORDS = ["vp", "VP Sales", "Head of IT", "student", "Director", "engineer", "CTO", ""]
COUNTRIES = ["US", "us", "Germany", "France", ""]
KINDS = ["page_view", "pricing_page_view", "demo_request", "content_download", "email_open"]
URLS = ["", "https://x.io/pricing", "https://x.io/careers/1", "https://x.io/blog/a"]
URL_PATTERNS = ["pricing", "/careers(/|$)", "blog/[a-z]", "^https://x"]
PHRASES = ["vp", "VP Sales", "head of", "IT", "us", "soft", "Director", "a b", "ye"]
ATTR_VALUES = st.one_of(
    st.none(),
    st.integers(-5, 300),
    st.sampled_from(["yes", "No", "a b", ""]),
    st.booleans(),
    st.sampled_from([0.5, 12.25, 99.9]),
)

# Dates as the import writes them (a day, or a moment), and texts that only
# look like one: none of those may match, nor fail, on either path.
BAD_DATES = [
    "2024-02-30",
    "2023-02-29",
    "2024-13-01",
    "0000-01-01",
    "2024-1-1",
    "2024-01-01x",
    "2024-01-01\n",
    "not a date",
    "\u0662024-01-01",
    "",
]
DATE_VALUES = st.one_of(
    st.integers(-5, 800).map(lambda days: (AS_OF - timedelta(days=days)).date().isoformat()),
    st.tuples(st.integers(-5, 800), st.integers(0, 86399)).map(
        lambda dt: (AS_OF - timedelta(days=dt[0], seconds=dt[1])).isoformat()
    ),
    st.sampled_from([*BAD_DATES, "2024-02-29", "9999-12-31", "0001-01-01"]),
    st.integers(0, 90),
    st.none(),
)
AGE_BANDS = st.tuples(st.integers(0, 400), st.one_of(st.none(), st.integers(0, 500))).map(
    lambda band: [band[0], None if band[1] is None else band[0] + band[1]]
)


def fit_condition():
    text = st.sampled_from(
        ["title", "country", "email_domain", "account.industry", "attributes.plan"]
    )
    return st.one_of(
        st.tuples(text, st.just("equals"), st.sampled_from(WORDS[:-1] + COUNTRIES[:-1])),
        st.tuples(
            text,
            st.just("in"),
            st.lists(st.sampled_from(WORDS + COUNTRIES), min_size=1, max_size=3),
        ),
        st.tuples(text, st.just("contains"), st.sampled_from(["v", "o", "us", "a"])),
        st.tuples(text, st.just("regex"), st.sampled_from(["^v", "(ead|ect)", "s$", "[0-9]"])),
        st.tuples(
            text,
            st.sampled_from(["contains_any", "starts_with"]),
            st.lists(st.sampled_from(PHRASES), min_size=1, max_size=3),
        ),
        st.tuples(
            st.sampled_from(["account.employee_count", "attributes.visits"]),
            st.sampled_from(["gt", "gte", "lt", "lte"]),
            st.sampled_from([0, 10, 50, 200, 12.25]),
        ),
        st.tuples(
            st.sampled_from(["account.employee_count", "attributes.visits"]),
            st.just("between"),
            st.sampled_from([[10, 200], [0, 0.5], [12.25, 99.9]]),
        ),
        st.tuples(
            st.sampled_from(
                ["title", "attributes.plan", "attributes.visits", "account.employee_count"]
            ),
            st.just("is_set"),
            st.none(),
        ),
        st.tuples(
            st.sampled_from(["account.is_target_account", "do_not_contact", "attributes.flag"]),
            st.just("is_true"),
            st.none(),
        ),
        st.tuples(
            st.sampled_from(["created_at", "account.last_funding_date"]),
            st.just("within_days"),
            st.integers(1, 60),
        ),
        st.tuples(st.just("attributes.signed_up"), st.just("age_days"), AGE_BANDS),
    )


def rules():
    fit = st.builds(
        lambda layer, cond, points: {
            "layer": layer,
            "field": cond[0],
            "operator": cond[1],
            "value": cond[2],
            "points": points,
        },
        st.sampled_from([Layer.DEMOGRAPHIC, Layer.FIRMOGRAPHIC, Layer.DISQUALIFIER]),
        fit_condition(),
        st.integers(-60, 60),
    )
    prop = st.builds(
        lambda k, ov: {"key": k, "operator": ov[0], "value": ov[1]},
        st.sampled_from(["plan", "n"]),
        st.sampled_from([("equals", "team"), ("gte", 3), ("is_set", None)]),
    )
    engagement = st.builds(
        lambda layer, kinds, url, props, points, window, cap, half: {
            "layer": layer,
            "activity_kinds": kinds,
            "url_pattern": url or "",
            "property_conditions": props,
            "points": points,
            "window_days": window,
            "cap": cap,
            "half_life_days": half,
        },
        st.sampled_from([Layer.ENGAGEMENT, Layer.ENGAGEMENT, Layer.DISQUALIFIER]),
        st.lists(st.sampled_from(KINDS), max_size=2),
        st.one_of(st.none(), st.sampled_from(URL_PATTERNS)),
        st.lists(prop, max_size=1),
        st.integers(-25, 40),
        st.integers(1, 120),
        st.one_of(st.none(), st.integers(0, 50)),
        st.one_of(st.none(), st.integers(1, 45)),
    )
    return st.lists(st.one_of(fit, engagement), min_size=1, max_size=8)


model_settings = st.fixed_dictionaries(
    {
        "threshold": st.integers(-20, 80),
        "min_fit": st.integers(-20, 30),
        "min_engagement": st.integers(-20, 30),
        "fit_floor": st.integers(-80, 0),
        "fit_ceiling": st.integers(0, 80),
        "engagement_floor": st.integers(-80, 0),
        "engagement_ceiling": st.integers(0, 80),
        "total_floor": st.integers(-80, 0),
        "total_ceiling": st.integers(0, 120),
    }
)

activity = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(KINDS),
        "url": st.sampled_from(URLS),
        "properties": st.fixed_dictionaries(
            {}, optional={"plan": st.sampled_from(["team", "TEAM", "solo"]), "n": st.integers(0, 5)}
        ),
        # Ages in seconds, up to 130 days back and a little into the future (clock skew).
        "age": st.integers(-3600, 130 * 86400),
    }
)

lead = st.fixed_dictionaries(
    {
        "title": st.sampled_from(WORDS),
        "country": st.sampled_from(COUNTRIES),
        "domain": st.sampled_from(["acme.com", "uni.edu", "gmail.com", None]),
        "employees": st.one_of(st.none(), st.integers(0, 1000)),
        "industry": st.sampled_from(["Software", "software", "Retail", ""]),
        "target": st.booleans(),
        "funded_days_ago": st.one_of(st.none(), st.integers(0, 90)),
        "created_days_ago": st.integers(0, 90),
        "do_not_contact": st.booleans(),
        "attributes": st.dictionaries(
            st.sampled_from(["plan", "visits", "flag"]), ATTR_VALUES, max_size=3
        ).flatmap(
            lambda attrs: st.fixed_dictionaries({}, optional={"signed_up": DATE_VALUES}).map(
                lambda dated: {**attrs, **dated}
            )
        ),
        "activities": st.lists(activity, max_size=8),
        "source": st.sampled_from(["inbound_form", "cold_list", "webinar"]),
        # Later arrivals from other sources: any eligible one makes the lead eligible.
        "touches": st.lists(
            st.sampled_from(["inbound_form", "cold_list", "webinar"]), max_size=2, unique=True
        ),
    }
)


def build(model_spec, rule_specs, lead_specs) -> tuple[ScoringModel, list[Lead]]:
    model = ScoringModel.objects.create(name="random", version=1000, **model_spec)
    model.eligible_sources.set(LeadSource.objects.filter(slug__in=["inbound_form", "webinar"]))
    for position, spec in enumerate(rule_specs):
        Rule.objects.create(model=model, name=f"rule {position}", position=position, **spec)
    leads = []
    for n, spec in enumerate(lead_specs):
        account = None
        if spec["domain"] and spec["domain"] != "gmail.com":
            account = Account.objects.create(
                name=f"A{n}",
                domain=f"{n}.{spec['domain']}",
                employee_count=spec["employees"],
                industry=spec["industry"],
                is_target_account=spec["target"],
                last_funding_date=(AS_OF - timedelta(days=spec["funded_days_ago"])).date()
                if spec["funded_days_ago"] is not None
                else None,
            )
        email = f"p{n}@{n}.{spec['domain']}" if spec["domain"] else None
        lead = Lead.objects.create(
            email=email,
            external_id=None if email else f"x{n}",
            title=spec["title"],
            country=spec["country"],
            account=account,
            attributes=spec["attributes"],
            do_not_contact=spec["do_not_contact"],
            source=LeadSource.objects.get(slug=spec["source"]),
        )
        Lead.objects.filter(pk=lead.pk).update(
            created_at=AS_OF - timedelta(days=spec["created_days_ago"], minutes=n)
        )
        lead.refresh_from_db()
        LeadTouch.objects.bulk_create(
            LeadTouch(lead=lead, source=LeadSource.objects.get(slug=slug), first_seen_at=AS_OF)
            for slug in spec.get("touches", ())
        )
        Activity.objects.bulk_create(
            Activity(
                lead=lead,
                kind=a["kind"],
                url=a["url"],
                properties=a["properties"],
                occurred_at=AS_OF - timedelta(seconds=a["age"]),
                source_system="t",
                external_id=f"{n}-{i}",
            )
            for i, a in enumerate(spec["activities"])
        )
        leads.append(lead)
    return model, leads


def sql_scores(model: ScoringModel, ids: list[int]) -> dict[int, tuple]:
    query = bulk.scores_sql(
        compiled_model(model),
        as_of=AS_OF,
        lead_filter=bulk.Sql("{lead_id} BETWEEN %s AND %s", [min(ids), max(ids)]),
    )
    with connection.cursor() as cursor:
        cursor.execute(query.text, query.params)
        # Django reads jsonb from raw cursors as text.
        return {row[0]: (*row[1:7], json.loads(row[7]), row[10]) for row in cursor.fetchall()}


@pytest.mark.django_db
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    model_spec=model_settings, rule_specs=rules(), lead_specs=st.lists(lead, min_size=1, max_size=5)
)
def test_single_lead_and_bulk_scoring_agree(model_spec, rule_specs, lead_specs):
    with transaction.atomic():
        model, leads = build(model_spec, rule_specs, lead_specs)
        from_sql = sql_scores(model, [lead.pk for lead in leads])
        for lead in leads:
            lead = Lead.objects.select_related("account", "source").get(pk=lead.pk)
            python = score_one(model, lead, as_of=AS_OF)
            fit, eng, total, grade, disqualified, qualifies, explanation, fit_only = from_sql[
                lead.pk
            ]

            assert (python.fit_cents, python.engagement_cents, python.total_cents) == (
                fit,
                eng,
                total,
            )
            assert (python.grade, python.disqualified, python.qualifies, python.fit_only) == (
                grade,
                disqualified,
                qualifies,
                fit_only,
            )
            assert python.explanation == explanation
            # The explanation adds up to the score, to the hundredth.
            assert sum(Decimal(str(e["points"])) for e in explanation) == python.total
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_a_kind_listed_twice_counts_each_activity_once_in_both_engines():
    """Demo requests at 30 points, the kind entered twice: two requests are
    60 points, not 120, one lead at a time as in SQL."""
    model, [lead] = build(
        {"threshold": 75, "min_fit": 0, "min_engagement": 0},
        [
            {
                "layer": Layer.ENGAGEMENT,
                "activity_kinds": ["demo_request", "demo_request"],
                "url_pattern": "",
                "property_conditions": [],
                "points": 30,
                "window_days": 90,
                "cap": None,
                "half_life_days": None,
            }
        ],
        [
            {
                "domain": None,
                "title": "",
                "country": "",
                "employees": None,
                "industry": "",
                "target": False,
                "funded_days_ago": None,
                "created_days_ago": 1,
                "do_not_contact": False,
                "attributes": {},
                "source": "inbound_form",
                "activities": [
                    {"kind": "demo_request", "url": "", "properties": {}, "age": age}
                    for age in (3600, 7200)
                ],
            }
        ],
    )
    lead = Lead.objects.select_related("account", "source").get(pk=lead.pk)

    python = score_one(model, lead, as_of=AS_OF)
    _, eng, *_ = sql_scores(model, [lead.pk])[lead.pk]

    assert (python.engagement_cents, eng) == (6000, 6000)
    assert python.explanation[0]["count"] == 2


# --- words, phrases and patterns on any text --------------------------------------------

# Letters of several scripts and cases, digits, separators of every kind, and
# the characters that mean something in a regular expression.
TEXT_ALPHABET = st.one_of(
    st.sampled_from(
        list(
            "aAbBcCvVpPkK\u00e9\u00c9\u00df\u015f\u015e\u0131\u0130\u01c5\u03c3\u03a3"
            "\u03c2\u043a\u041a\u212a_-.,;:/()[]{}+*?|^$\\ \t\n\u00a0\u2013\u2019\u00ab\u00bb"
        )
    ),
    st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\x00"),
)
phrase = st.text(TEXT_ALPHABET, min_size=1, max_size=6).map(str.strip).filter(bool)
PATTERNS = [
    "^v",
    "(ead|ect)",
    r"\d+",
    r"\w\s\w",
    r"[^a-z]vp([^a-z]|$)",
    "é",
    "[à-ÿ]+$",
    "\u03c3",  # sigma, which has two small forms
    r"c\+\+",
    "a{2,3}",
    "(a|b)*c",
    "^.$",
    r"\W",
    "[.]",
    "k",
]


@st.composite
def text_cases(draw):
    """Phrases, and titles made of them (in changed case) and of noise."""
    phrases = draw(st.lists(phrase, min_size=1, max_size=4))
    pieces = st.one_of(
        st.sampled_from(phrases).flatmap(lambda p: st.sampled_from([p, p.upper(), p.lower()])),
        st.text(TEXT_ALPHABET, max_size=4),
    )
    titles = draw(st.lists(st.lists(pieces, max_size=4).map("".join), min_size=1, max_size=8))
    return phrases, titles


@pytest.mark.django_db
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=text_cases(),
    operator=st.sampled_from(["contains_any", "starts_with", "regex"]),
    pattern=st.sampled_from(PATTERNS),
)
def test_words_phrases_and_patterns_match_the_same_texts_in_both_engines(case, operator, pattern):
    phrases, titles = case
    value = pattern if operator == "regex" else phrases
    cond = Condition.build("title", FieldType.TEXT, operator, value)
    frag = bulk.condition_sql(cond, container=None, as_of=AS_OF)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE({frag.text}, false) FROM unnest(%s::text[]) WITH ORDINALITY "
            "AS l(title, n) ORDER BY n",
            [*frag.params, titles],
        )
        in_sql = [row[0] for row in cursor.fetchall()]

    assert [condition_holds(cond, t or None, AS_OF) for t in titles] == in_sql


@pytest.mark.django_db
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dates=st.lists(DATE_VALUES, min_size=1, max_size=12),
    band=AGE_BANDS,
    seconds=st.integers(0, 86399),
)
def test_a_date_attributes_age_is_the_same_days_in_both_engines(dates, band, seconds):
    as_of = AS_OF.replace(hour=0) + timedelta(seconds=seconds)
    cond = Condition.build("attributes.signed_up", FieldType.ANY, "age_days", band)
    frag = bulk.condition_sql(cond, container="l.attributes", as_of=as_of)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE({frag.text}, false) FROM unnest(%s::jsonb[]) WITH ORDINALITY "
            "AS l(attributes, n) ORDER BY n",
            [*frag.params, [json.dumps({"signed_up": d}) for d in dates]],
        )
        in_sql = [row[0] for row in cursor.fetchall()]

    assert [condition_holds(cond, d, as_of) for d in dates] == in_sql


def test_a_date_attribute_is_aged_in_whole_days_and_bad_dates_never_match():
    as_of = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    cond = Condition.build("attributes.signed_up", FieldType.ANY, "age_days", [30, 90])
    assert condition_holds(cond, "2026-10-21", as_of)  # 30 days
    assert condition_holds(cond, "2026-08-22T23:59:00", as_of)  # 90 days, by its day
    assert not condition_holds(cond, "2026-10-22", as_of)  # 29 days
    assert not condition_holds(cond, "2026-08-21", as_of)  # 91 days
    for bad in [*BAD_DATES, None, 45, True]:
        assert not condition_holds(cond, bad, as_of), bad
    older = Condition.build("attributes.signed_up", FieldType.ANY, "age_days", [365, None])
    assert condition_holds(older, "2001-01-01", as_of)
    assert not condition_holds(older, "2026-01-01", as_of)
