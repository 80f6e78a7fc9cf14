"""Previewing a version's impact before it is published: a worked example.

The live version is the default model (threshold 75, fit ≥ 10, engagement ≥ 20;
senior title +15, company of 200+ +10, demo request +30, pricing page +20
capped at 20, content downloads +5 capped at 15). The draft raises the fit
needed to 15, lowers the threshold to 40 and gives a senior title 20 points.

    lead   who                                   live (fit/eng/total)  draft
    hot    VP, 500 staff, demo + pricing          25/50/75  MQL        30/50/80  MQL
    warm   VP, no account, demo                   15/30/45  -          20/30/50  MQL (newly)
    tepid  engineer, 500 staff, demo + pricing    10/50/60  -          10/50/60  - (fit)
    busy   engineer, 500 staff, demo + pricing    10/65/75  MQL        10/65/75  - (stops)
           + 4 downloads
    badge  like hot, from a badge scan            25/50/75  - (source) 30/50/80  - (source)
    cold   nothing, never scored                  none                  0/0/0    -
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from leads import services as lead_services
from scoring import preview, services
from scoring.models import Rule
from scoring.preview import Bucket, SourceImpact, preview_impact
from scoring.selectors import live_model
from tests import factories


@pytest.fixture
def draft(marketing_ops):
    draft = services.clone_model(source=live_model(), by=marketing_ops, name="Broader")
    services.update_model_settings(model=draft, by=marketing_ops, threshold=40, min_fit=15)
    rule = Rule.objects.get(model=draft, name="Senior title")
    rule.points = 20
    services.save_rule(rule=rule, by=marketing_ops)
    draft.refresh_from_db()
    return draft


@pytest.fixture
def worked_example(db):
    now = timezone.now()
    lead_services.upsert_account(domain="bigco.com", name="BigCo", employee_count=500)

    def lead(email, title="", source="inbound_form", kinds=()):
        made, _ = lead_services.upsert_lead(
            email=email, source=factories.source(source), title=title
        )
        for kind in kinds:
            factories.make_activity(made, kind, occurred_at=now - timedelta(hours=1))
        return made

    leads = {
        "hot": lead("hot@bigco.com", "VP Marketing", kinds=["demo_request", "pricing_page_view"]),
        "warm": lead("warm@smallshop.io", "VP Sales", kinds=["demo_request"]),
        "tepid": lead("tepid@bigco.com", "Engineer", kinds=["demo_request", "pricing_page_view"]),
        "busy": lead(
            "busy@bigco.com",
            "Engineer",
            kinds=["demo_request", "pricing_page_view", *["content_download"] * 4],
        ),
        "badge": lead(
            "badge@bigco.com",
            "VP Finance",
            source="trade_show_badge_scan",
            kinds=["demo_request", "pricing_page_view"],
        ),
    }
    services.rescore_leads(lead_ids=[lead.pk for lead in leads.values()])
    leads["cold"] = lead("cold@nowhere.org")  # created after: it has no live score
    return leads


EXPECTED_SOURCES = [
    SourceImpact(
        source="Inbound form",
        leads=5,
        live_mqls=2,
        draft_mqls=2,
        newly_qualify=1,
        stop_qualifying=1,
    ),
    SourceImpact(
        source="Trade-show badge scan",
        leads=1,
        live_mqls=0,
        draft_mqls=0,
        newly_qualify=0,
        stop_qualifying=0,
    ),
]
# Totals: draft 0 (cold), 50 (warm), 60 (tepid), 75 (busy), 80 (hot, badge);
# live 45 (warm), 60 (tepid), 75 (hot, busy, badge); cold has no live score.
EXPECTED_BUCKETS = [
    Bucket(low=0, live=0, draft=1),
    Bucket(low=10, live=0, draft=0),
    Bucket(low=20, live=0, draft=0),
    Bucket(low=30, live=0, draft=0),
    Bucket(low=40, live=1, draft=0),
    Bucket(low=50, live=0, draft=1),
    Bucket(low=60, live=1, draft=1),
    Bucket(low=70, live=3, draft=1),
    Bucket(low=80, live=0, draft=2),
]


def test_the_preview_counts_leads_that_would_start_and_stop_qualifying_by_source(
    draft, worked_example
):
    impact = preview_impact(draft=draft)

    assert impact.sources == EXPECTED_SOURCES
    assert (impact.leads, impact.newly_qualify, impact.stop_qualifying) == (6, 1, 1)
    assert (impact.live_mqls, impact.draft_mqls, impact.unscored) == (2, 2, 1)
    assert impact.live == live_model()


def test_the_preview_histogram_puts_live_and_draft_totals_in_ten_point_buckets(
    draft, worked_example
):
    impact = preview_impact(draft=draft)

    assert impact.buckets == EXPECTED_BUCKETS
    assert impact.largest_bucket == 3


def test_the_python_engine_gives_the_same_preview_where_there_is_no_postgresql(
    draft, worked_example, monkeypatch
):
    as_of = timezone.now()
    in_sql = preview_impact(draft=draft, as_of=as_of)
    monkeypatch.setattr(preview, "connection", SimpleNamespace(vendor="sqlite"))

    in_python = preview_impact(draft=draft, as_of=as_of)

    assert in_python.sources == in_sql.sources == EXPECTED_SOURCES
    assert in_python.buckets == in_sql.buckets == EXPECTED_BUCKETS
    assert in_python.unscored == in_sql.unscored == 1


def test_the_preview_writes_nothing(draft, worked_example, django_assert_num_queries):
    before = sorted(live_model().rules.values_list("name", "points"))

    # The version's rules and sources, the statement's settings, the counts, the
    # source names, the live version; and a savepoint around the statement.
    with django_assert_num_queries(8):
        preview_impact(draft=draft)

    assert sorted(live_model().rules.values_list("name", "points")) == before


def test_a_preview_with_no_leads_is_empty(draft):
    impact = preview_impact(draft=draft)

    assert (impact.sources, impact.buckets, impact.leads) == ([], [], 0)


def test_the_preview_page_shows_the_counts_and_the_chart(client_as, manager, draft, worked_example):
    response = client_as(manager).get(
        reverse("admin:scoring_scoringmodel_preview", args=[draft.pk])
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["impact"].sources == EXPECTED_SOURCES
    assert '<span class="figure" id="newly-qualify">1</span> would newly qualify' in html
    assert (
        "<tr><td>Inbound form</td><td>5</td><td>2</td><td>2</td><td>1</td><td>1</td></tr>" in html
    )
    assert '<progress class="draft" max="3" value="2"></progress> 2' in html


def test_the_live_version_has_nothing_to_preview(client_as, marketing_ops):
    live = live_model()

    response = client_as(marketing_ops).get(
        reverse("admin:scoring_scoringmodel_preview", args=[live.pk])
    )

    assert response.url == reverse("admin:scoring_scoringmodel_change", args=[live.pk])
