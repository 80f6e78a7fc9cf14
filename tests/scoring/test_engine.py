"""Worked examples of the engine's rules, one behaviour each."""

from datetime import UTC, datetime, timedelta

from scoring.engine import (
    ActivityFacts,
    CompiledModel,
    CompiledRule,
    Condition,
    condition_holds,
    score,
)
from scoring.fields import FieldType

AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
INBOUND = 1


def model(
    *rules: CompiledRule,
    threshold=75,
    min_fit=10,
    min_engagement=20,
    fit=(-100, 100),
    engagement=(-100, 100),
    total=(-100, 200),
) -> CompiledModel:
    return CompiledModel(
        id=1,
        version=1,
        threshold=threshold,
        min_fit=min_fit,
        min_engagement=min_engagement,
        grade_bands=(30, 15, 0),
        fit_bounds=fit,
        engagement_bounds=engagement,
        total_bounds=total,
        eligible_source_ids=frozenset({INBOUND}),
        rules=rules,
    )


def fit_rule(rule_id, field, operator, value, points, layer="demographic", type_=FieldType.TEXT):
    return CompiledRule(
        id=rule_id,
        name=f"rule {rule_id}",
        layer=layer,
        points=points,
        condition=Condition.build(field, type_, operator, value),
    )


def engagement_rule(
    rule_id, kind, points, *, window=90, cap=None, half_life=None, layer="engagement"
):
    return CompiledRule(
        id=rule_id,
        name=f"rule {rule_id}",
        layer=layer,
        points=0 if layer == "disqualifier" else points,
        activity_kinds=(kind,),
        window_days=window,
        cap=cap,
        half_life_days=half_life,
    )


def did(kind: str, days_ago: float, url: str = "") -> ActivityFacts:
    return ActivityFacts(
        kind=kind, url=url, properties={}, occurred_at=AS_OF - timedelta(days=days_ago)
    )


def run(m, *activities, values=None, attributes=None, source=INBOUND):
    return score(
        m,
        values=values or {},
        attributes=attributes or {},
        source_id=source,
        activities=activities,
        as_of=AS_OF,
    )


def test_six_downloads_do_not_outweigh_one_pricing_page_visit():
    m = model(
        engagement_rule(1, "content_download", 5, cap=15),
        engagement_rule(2, "pricing_page_view", 20),
    )

    downloads = run(m, *[did("content_download", d) for d in range(6)])
    pricing = run(m, did("pricing_page_view", 1))

    assert downloads.engagement_cents == 1500
    assert pricing.engagement_cents == 2000
    line = downloads.explanation[0]
    assert (line["count"], line["points_before"], line["points"]) == (6, 30.0, 15.0)


def test_only_activities_inside_the_look_back_window_count():
    m = model(engagement_rule(1, "webinar_attendance", 10, window=30))

    result = run(m, did("webinar_attendance", 29), did("webinar_attendance", 31))

    assert result.engagement_cents == 1000
    assert result.explanation[0]["count"] == 1


def test_decay_halves_an_activity_every_half_life_from_its_own_age():
    m = model(engagement_rule(1, "demo_request", 30, half_life=14))

    fresh = run(m, did("demo_request", 0))
    two_weeks = run(m, did("demo_request", 14))
    four_weeks = run(m, did("demo_request", 28))

    assert (fresh.engagement_cents, two_weeks.engagement_cents, four_weeks.engagement_cents) == (
        3000,
        1500,
        750,
    )
    assert four_weeks.explanation[0]["points_before"] == 30.0
    assert four_weeks.explanation[0]["points_after_decay"] == 7.5


def test_negative_points_count_and_a_lead_can_climb_back_from_the_floor():
    m = model(
        fit_rule(1, "email_domain", "regex", r"\.edu$", -50),
        engagement_rule(2, "demo_request", 30),
        fit=(-20, 100),
    )
    student = {"email_domain": "uni.edu"}

    quiet = run(m, values=student)
    engaged = run(m, did("demo_request", 1), values=student)

    # -50 is held at the fit floor of -20, and the explanation says so.
    assert quiet.fit_cents == -2000
    assert [line["points"] for line in quiet.explanation] == [-50.0, 30.0]
    assert quiet.explanation[1]["rule"] == "Fit floor (-20)"
    assert engaged.total_cents == -2000 + 3000


def test_a_disqualifier_keeps_a_lead_from_mql_whatever_its_score():
    m = model(
        fit_rule(1, "title", "contains", "vp", 50),
        engagement_rule(2, "demo_request", 60),
        fit_rule(
            3, "do_not_contact", "is_true", None, 0, layer="disqualifier", type_=FieldType.BOOLEAN
        ),
    )
    values = {"title": "VP Sales", "do_not_contact": True}

    result = run(m, did("demo_request", 1), values=values)

    assert result.total_cents == 11000
    assert result.disqualified is True
    assert result.qualifies is False
    assert result.explanation[-1]["disqualifies"] is True


def test_an_activity_disqualifier_blocks_job_seekers():
    m = model(
        engagement_rule(1, "demo_request", 80),
        CompiledRule(
            id=2,
            name="careers",
            layer="disqualifier",
            points=0,
            activity_kinds=("page_view",),
            window_days=30,
            url_pattern=__import__("re").compile("/careers", 2),
            url_pattern_text="/careers",
        ),
        min_fit=-100,
    )

    seeker = run(m, did("demo_request", 1), did("page_view", 2, "https://x.io/careers/sdr"))
    buyer = run(m, did("demo_request", 1), did("page_view", 2, "https://x.io/pricing"))

    assert (seeker.qualifies, buyer.qualifies) == (False, True)


def test_fit_alone_or_engagement_alone_is_not_an_mql():
    m = model(
        fit_rule(1, "title", "contains", "chief", 80),
        engagement_rule(2, "demo_request", 80),
        threshold=75,
        min_fit=10,
        min_engagement=20,
    )

    fit_only = run(m, values={"title": "Chief Revenue Officer"})
    engagement_only = run(m, did("demo_request", 1))
    both = run(m, did("demo_request", 1), values={"title": "Chief Revenue Officer"})

    assert (fit_only.qualifies, engagement_only.qualifies, both.qualifies) == (False, False, True)


def test_a_lead_from_a_source_that_is_not_eligible_never_qualifies():
    m = model(fit_rule(1, "title", "contains", "chief", 80), engagement_rule(2, "demo_request", 80))

    result = run(m, did("demo_request", 1), values={"title": "chief"}, source=99)

    assert result.total_cents == 16000
    assert result.qualifies is False


def test_fit_grade_bands():
    m = model(fit_rule(1, "title", "contains", "vp", 20))

    assert run(m, values={"title": "VP"}).grade == "B"
    assert run(m, values={"title": "intern"}).grade == "C"


# --- words and phrases, and patterns -------------------------------------------------


def title_holds(operator, value, title) -> bool:
    cond = Condition.build("title", FieldType.TEXT, operator, value)
    return condition_holds(cond, title, AS_OF)


def test_contains_any_of_matches_whole_words_in_any_case():
    phrases = ["VP", "head of", "chief"]

    assert [
        title_holds("contains_any", phrases, t)
        for t in [
            "vp, Sales",
            "Head of IT",
            "HEAD-OF Marketing",
            "Chief of Staff",
            "MVP",
            "Headhunter",
        ]
    ] == [True, True, True, True, False, False]


def test_contains_any_of_matches_punctuation_in_a_phrase_literally():
    assert [
        title_holds("contains_any", ["C++", "a.b", "(ops)"], t)
        for t in ["Senior C++ developer", "ABC++", "axb lead", "a.b lead", "Lead (Ops)"]
    ] == [True, False, False, True, True]


def test_contains_any_of_folds_case_beyond_ascii():
    assert [
        title_holds("contains_any", ["directeur général"], t)
        for t in ["DIRECTEUR GÉNÉRAL adjoint", "Directeur-Général", "directeur generale"]
    ] == [True, True, False]


def test_starts_with_looks_at_the_first_words_only():
    assert [
        title_holds("starts_with", ["head of", "VP"], t)
        for t in ["Head of Sales", "  vp marketing", "Headhunter", "Deputy head of IT"]
    ] == [True, True, False, False]


def test_a_pattern_is_case_insensitive_and_its_dot_takes_any_character():
    assert [title_holds("regex", r"^c.o$", t) for t in ["CEO", "cto", "c\no", "chief"]] == [
        True,
        True,
        True,
        False,
    ]
