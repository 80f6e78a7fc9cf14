"""My MQLs (/queue/) and a lead's page (/queue/<assignment id>/).

The leads are made as in production: an account and a lead through the leads
services, activity events recorded, the lead scored by the live (default)
model, which makes it an MQL, and routed by routing.route_mql. The only thing
set by hand is the SLA clock (``set_due``), where a test needs an MQL that is
overdue or due at a given time.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from handoff.models import Notice
from handoff.notices.services import mark_notices_read
from leads.models import Lead, Stage
from leads.services import ActivityEvent, record_activities, upsert_account, upsert_lead
from routing.models import Assignment, Membership
from routing.services import join_queue, route_mql, watch_sla_clocks
from routing.views import time_left, top_reasons
from scoring.services import score_lead
from tests import factories

# --- Making MQLs through the services ------------------------------------------------


def qualified_lead(
    *,
    first_name: str,
    last_name: str,
    email: str,
    owner=None,
    title: str = "VP Marketing",
    employees: int = 500,
    source: str = "inbound_form",
    company: str | None = None,
):
    """A lead that the default model makes an MQL: a senior title at a company
    of 500 (fit 25, grade B), a demo request, a pricing-page visit and a
    month-old content download (decayed to half its points)."""
    domain = email.rpartition("@")[2]
    upsert_account(
        domain=domain,
        name=company or domain.split(".")[0].capitalize(),
        employee_count=employees,
        owner=owner,
    )
    lead, _ = upsert_lead(
        email=email,
        source=factories.source(source),
        first_name=first_name,
        last_name=last_name,
        title=title,
    )
    now = timezone.now()
    record_activities(
        events=[
            ActivityEvent(
                lead_id=lead.pk,
                kind=kind,
                occurred_at=now - age,
                url=url,
                source_system="web",
                external_id=f"{email}/{kind}",
            )
            for kind, age, url in [
                ("demo_request", timedelta(hours=1), "https://example.com/demo"),
                ("pricing_page_view", timedelta(days=2), "https://example.com/pricing"),
                ("content_download", timedelta(days=30), "https://example.com/ebook"),
            ]
        ]
    )
    score_lead(lead_id=lead.pk)
    lead.refresh_from_db()
    assert lead.stage == Stage.MQL
    return lead


def hand_off(lead) -> Assignment:
    """Routes the MQL: a demo request goes to "Demo requests", whose account
    owner (when a member) gets it."""
    return route_mql(lead_id=lead.pk)


def set_due(assignment: Assignment, *, minutes: float) -> Assignment:
    """The SLA clock: due ``minutes`` from now (negative: overdue)."""
    due = timezone.now() + timedelta(minutes=minutes)
    Assignment.objects.filter(pk=assignment.pk).update(due_at=due)
    assignment.due_at = due
    return assignment


def mql_for(sdr, n: int = 1, **fields) -> Assignment:
    lead = qualified_lead(
        first_name=fields.pop("first_name", f"Ada{n}"),
        last_name=fields.pop("last_name", "Lovelace"),
        email=fields.pop("email", f"ada{n}@acme{n}.example"),
        owner=sdr,
        **fields,
    )
    assignment = hand_off(lead)
    assert assignment.sdr == sdr
    return assignment


def forget_new_mql_notices() -> None:
    """Each new MQL tells its SDR; tests of what the SLA clock tells start without those."""
    Notice.objects.filter(kind="assigned").delete()


def seat(sdrs, queues) -> None:
    """Each SDR works each queue, with room for more than a page of MQLs."""
    for queue in queues:
        for user in sdrs:
            join_queue(queue=queue, sdr=user, capacity=50)


@pytest.fixture
def desk(sdr, other_sdr, demo_queue, inbound):
    seat([sdr, other_sdr], [demo_queue, inbound])


def names_in_order(response) -> list[str]:
    return [row.assignment.lead.full_name for row in response.context["rows"]]


# --- The presentation helpers ---------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "text", "overdue"),
    [
        (80, "due in 1 h 20 min", False),
        (60, "due in 1 h 00 min", False),
        (25, "due in 25 min", False),
        (0.5, "due in less than a minute", False),
        (-180, "overdue by 3 h 00 min", True),
        (-(2 * 24 * 60 + 4 * 60 + 10), "overdue by 2 d 4 h", True),
    ],
)
def test_time_left_reads_as_a_person_would_say_it(minutes, text, overdue):
    now = timezone.now()
    assert time_left(now + timedelta(minutes=minutes), now) == (text, overdue)


def test_top_reasons_are_the_rules_that_gave_the_most_points():
    explanation = [
        {"rule": "Senior title", "points": 15.0},
        {"rule": "Student email", "points": -50.0},
        {"rule": "Demo request", "points": 30.0},
        {"rule": "Content download", "points": 2.5},
        {"rule": "Pricing page visit", "points": 20.0},
        {"rule": "Do not contact", "points": 0.0, "disqualifies": True},
    ]
    assert top_reasons(explanation) == [
        "Demo request +30",
        "Pricing page visit +20",
        "Senior title +15",
    ]


# --- My MQLs ------------------------------------------------------------------------------


def test_the_queue_lists_open_mqls_most_urgent_first(client_as, sdr, desk):
    later = set_due(mql_for(sdr, 1, first_name="Later"), minutes=300)
    overdue = set_due(mql_for(sdr, 2, first_name="Overdue"), minutes=-180)
    soon = set_due(mql_for(sdr, 3, first_name="Soon"), minutes=80)

    response = client_as(sdr).get("/queue/")

    assert response.status_code == 200
    assert names_in_order(response) == ["Overdue Lovelace", "Soon Lovelace", "Later Lovelace"]
    assert [(row.time_left, row.overdue) for row in response.context["rows"]] == [
        ("overdue by 3 h 00 min", True),
        ("due in 1 h 20 min", False),
        ("due in 5 h 00 min", False),
    ]
    assert {later.pk, overdue.pk, soon.pk} == {r.assignment.pk for r in response.context["rows"]}


def test_each_row_says_who_where_how_urgent_how_good_and_why(client_as, sdr, desk):
    set_due(
        mql_for(
            sdr,
            first_name="Grace",
            last_name="Hopper",
            email="grace@navy.example",
            company="Navy Labs",
        ),
        minutes=-180,
    )

    html = client_as(sdr).get("/queue/").content.decode()

    for text in [
        "Grace Hopper",
        "grace@navy.example",
        "VP Marketing",
        "Navy Labs",
        "overdue by 3 h",
        "Inbound form",
        "Demo request +30",
        "Pricing page visit +20",
        "Senior title +15",
    ]:
        assert text in html
    row = html.split('class="mql overdue"')[1]
    assert '<span class="grade grade-B">B</span>' in row


def test_the_queue_shows_only_the_sdrs_own_open_mqls(client_as, sdr, other_sdr, desk):
    mql_for(sdr, 1, first_name="Mine")
    mql_for(other_sdr, 2, first_name="Theirs")

    response = client_as(sdr).get("/queue/")

    assert names_in_order(response) == ["Mine Lovelace"]


def test_an_empty_queue_says_what_happens_next(client_as, sdr, desk):
    response = client_as(sdr).get("/queue/")

    html = response.content.decode()
    assert response.context["rows"] == []
    assert "No MQLs waiting for you." in html
    assert "New ones arrive here as leads qualify" in html


def test_a_filter_without_matches_offers_to_clear_it(client_as, sdr, desk):
    mql_for(sdr)

    html = client_as(sdr).get("/queue/", {"q": "nobody-like-this"}).content.decode()

    assert "No open MQL matches these filters." in html
    assert "No MQLs waiting for you." not in html


@pytest.mark.parametrize("query", ["grace", "HOPPER", "navy.example", "Navy Labs"])
def test_search_finds_by_name_email_or_company(client_as, sdr, desk, query):
    mql_for(
        sdr,
        1,
        first_name="Grace",
        last_name="Hopper",
        email="grace@navy.example",
        company="Navy Labs",
    )
    mql_for(sdr, 2)

    response = client_as(sdr).get("/queue/", {"q": query})

    assert names_in_order(response) == ["Grace Hopper"]


def test_filter_by_source(client_as, sdr, desk):
    mql_for(sdr, 1, first_name="Form")
    mql_for(sdr, 2, first_name="Webinar", source="webinar")

    response = client_as(sdr).get("/queue/", {"source": "webinar"})

    assert names_in_order(response) == ["Webinar Lovelace"]


def test_filter_by_grade_reads_the_current_score(client_as, sdr, desk):
    mql_for(sdr, 1, first_name="Senior")
    junior = mql_for(sdr, 2, first_name="Junior")
    # The title changes after the hand-off: the lead is rescored to grade C.
    upsert_lead(email=junior.lead.email, source=junior.lead.source, title="Marketing assistant")
    score_lead(lead_id=junior.lead_id)

    client = client_as(sdr)
    assert names_in_order(client.get("/queue/", {"grade": "C"})) == ["Junior Lovelace"]
    assert names_in_order(client.get("/queue/", {"grade": "B"})) == ["Senior Lovelace"]


def test_filter_overdue_only(client_as, sdr, desk):
    set_due(mql_for(sdr, 1, first_name="Late"), minutes=-5)
    set_due(mql_for(sdr, 2, first_name="Early"), minutes=60)

    response = client_as(sdr).get("/queue/", {"overdue": "true"})

    assert names_in_order(response) == ["Late Lovelace"]


def test_filtering_with_htmx_answers_only_the_results(client_as, sdr, desk):
    mql_for(sdr, 1, first_name="Late")

    response = client_as(sdr).get(
        "/queue/", {"q": "late"}, headers={"HX-Request": "true", "HX-Target": "queue-results"}
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="queue-results">')
    assert "Late Lovelace" in html
    assert "<html" not in html


def test_the_queue_shows_25_mqls_a_page(client_as, sdr, desk):
    for n in range(26):
        set_due(mql_for(sdr, n, first_name=f"P{n:02d}"), minutes=60 + n)

    client = client_as(sdr)
    first, second = client.get("/queue/"), client.get("/queue/", {"page": 2})

    assert len(first.context["rows"]) == 25
    assert names_in_order(second) == ["P25 Lovelace"]
    assert "Page 2 of 2" in second.content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/queue/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/queue/"


@pytest.mark.parametrize("role", ["manager", "marketing_ops"])
def test_people_who_are_not_sdrs_get_403(db, client_as, request, role):
    # db named here: the user comes from getfixturevalue, which pytest-django's
    # ordering (database tests before the transactional ones) does not see.
    response = client_as(request.getfixturevalue(role)).get("/queue/")

    assert response.status_code == 403


@pytest.mark.parametrize("count", [1, 10])
def test_the_queue_costs_the_same_queries_for_1_or_10_mqls(
    client_as, sdr, desk, count, django_assert_num_queries
):
    for n in range(count):
        set_due(mql_for(sdr, n), minutes=-10 - n)
    watch_sla_clocks()  # a breach notice for each, to list and count
    client = client_as(sdr)

    # session, user, roles, the source filter (its value, its options), count, page,
    # notices (list, count)
    with django_assert_num_queries(9):
        response = client.get("/queue/", {"source": "inbound_form", "overdue": "true"})

    assert len(response.context["rows"]) == count


# --- Notices ---------------------------------------------------------------------------------


def test_unread_notices_are_listed_and_counted(client_as, sdr, desk):
    assignment = mql_for(sdr)
    forget_new_mql_notices()
    watch_sla_clocks(now=assignment.remind_at + timedelta(seconds=1))

    html = client_as(sdr).get("/queue/").content.decode()

    assert f"{assignment.lead} is due" in html
    assert 'aria-label="1 unread"' in html


def test_the_queue_shows_the_newest_five_notices_and_links_to_the_rest(client_as, sdr, desk):
    for n in range(7):
        set_due(mql_for(sdr, n), minutes=-10 - n)
    forget_new_mql_notices()
    watch_sla_clocks()  # seven breaches

    html = client_as(sdr).get("/queue/").content.decode()

    assert html.count('class="notice notice-') == 5
    assert "The newest 5 of 7 unread are shown." in html
    assert 'href="/notices/">All notices</a></p>' in html


def test_marking_one_notice_read_with_htmx_answers_the_updated_list(client_as, sdr, desk):
    assignment = mql_for(sdr)
    forget_new_mql_notices()
    watch_sla_clocks(now=assignment.due_at + timedelta(seconds=1))  # a breach notice
    notice = Notice.objects.get(user=sdr)

    response = client_as(sdr).post(
        "/queue/notices/read/", {"notice": notice.pk}, headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert '<section id="notices"' in html
    assert '<span id="notice-count" hx-swap-oob="true">' in html
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_marking_all_notices_read_without_javascript_redirects(client_as, sdr, desk):
    assignment = mql_for(sdr)
    watch_sla_clocks(now=assignment.due_at + timedelta(seconds=1))

    response = client_as(sdr).post("/queue/notices/read/")

    assert (response.status_code, response["Location"]) == (302, "/queue/")
    assert Notice.objects.filter(user=sdr, read_at__isnull=True).count() == 0


def test_marking_read_leaves_other_peoples_notices_alone(sdr, other_sdr, desk):
    theirs = mql_for(other_sdr)
    forget_new_mql_notices()
    watch_sla_clocks(now=theirs.due_at + timedelta(seconds=1))
    notice = Notice.objects.get(user=other_sdr)

    assert mark_notices_read(user=sdr, notice_ids=[notice.pk]) == 0
    notice.refresh_from_db()
    assert notice.read_at is None


# --- A lead's page -----------------------------------------------------------------------


def test_the_lead_page_says_why_it_is_an_mql(client_as, sdr, desk):
    assignment = mql_for(sdr)

    response = client_as(sdr).get(f"/queue/{assignment.pk}/")

    assert response.status_code == 200
    file = response.context["file"]
    assert file.score_is_snapshot is True
    assert [(line["rule"], line["count"], line["points"]) for line in file.score.explanation] == [
        ("Senior title", 1, 15.0),
        ("Company of 200 employees or more", 1, 10.0),
        ("Demo request", 1, 30.0),
        ("Pricing page visit", 1, 20.0),
        ("Content download", 1, 2.5),
    ]
    html = response.content.decode()
    assert "Why is this an MQL" in html
    assert "The score when it became an MQL" in html
    assert (
        '<td>Content download</td><td>Engagement</td><td class="num">1</td>'
        '<td class="num">5</td><td class="num">2.50</td>' in html
    )
    assert "<strong>77.50</strong>" in html


def test_the_lead_page_keeps_the_score_sales_saw_at_hand_off(client_as, sdr, desk):
    assignment = mql_for(sdr)
    record_activities(
        events=[
            ActivityEvent(
                lead_id=assignment.lead_id,
                kind="content_download",
                occurred_at=timezone.now(),
                source_system="web",
                external_id="later",
            )
        ]
    )
    score_lead(lead_id=assignment.lead_id)  # the current score moves on

    file = client_as(sdr).get(f"/queue/{assignment.pk}/").context["file"]

    assert str(file.score.total) == "77.50"


def test_the_lead_page_says_why_this_sdr_got_it(client_as, sdr, other_sdr, demo_queue, inbound):
    # Nobody works demo requests but Olivia, who is away: the lead overflows.
    join_queue(queue=demo_queue, sdr=other_sdr)
    Membership.objects.filter(sdr=other_sdr).update(away_until=timezone.now() + timedelta(days=2))
    join_queue(queue=inbound, sdr=sdr)
    assignment = hand_off(
        qualified_lead(first_name="Ada", last_name="Byron", email="ada@engines.example")
    )

    html = client_as(sdr).get(f"/queue/{assignment.pk}/").content.decode()

    assert "Why you got it" in html
    assert "<dd>Demo requests</dd>" in html
    assert "<dd>recent demo_request</dd>" in html
    assert "Nobody could take it in Demo requests, so it went on to Inbound MQLs." in html
    assert "<dd>Round robin</dd>" in html
    assert "Olivia Park: away until" in html


def test_the_lead_page_shows_who_the_account_timeline_and_history(client_as, sdr, desk):
    assignment = mql_for(sdr, email="ada@acme.example", company="Acme")
    bob, _ = upsert_lead(
        email="bob@acme.example",
        source=factories.source(),
        first_name="Bob",
        last_name="Builder",
        title="CTO",
    )
    Lead.objects.filter(pk=bob.pk).update(owner=sdr)  # hers too: she may see him

    response = client_as(sdr).get(f"/queue/{assignment.pk}/")

    html = response.content.decode()
    assert [c.full_name for c in response.context["file"].other_contacts] == ["Bob Builder"]
    assert "Other contacts (1)" in html
    assert [a.kind for a in response.context["file"].activities] == [
        "demo_request",
        "pricing_page_view",
        "content_download",
    ]
    assert [(c.from_stage, c.to_stage) for c in response.context["stage_changes"]] == [
        ("lead", "mql")
    ]
    assert "Lead → MQL" in html


def test_other_contacts_are_only_those_the_api_shows_her(
    client_as, api_as, sdr, other_sdr, manager, desk
):
    assignment = mql_for(sdr, email="ada@acme.example", company="Acme")
    theirs = mql_for(other_sdr, 2, email="olivia.lead@acme.example", first_name="Theirs")
    unowned, _ = upsert_lead(
        email="carol@acme.example", source=factories.source(), first_name="Carol", title="CFO"
    )
    mine, _ = upsert_lead(email="dan@acme.example", source=factories.source(), first_name="Dan")
    Lead.objects.filter(pk=mine.pk).update(owner=sdr)

    page = client_as(sdr).get(f"/queue/{assignment.pk}/")
    api = api_as(sdr).get("/api/leads/", {"account": assignment.lead.account_id})

    html = page.content.decode()
    shown = [c.pk for c in page.context["file"].other_contacts]
    assert shown == [mine.pk]
    assert sorted(row["id"] for row in api.json()["results"]) == sorted(
        [assignment.lead.pk, mine.pk]
    )
    assert "Other contacts (1)" in html
    assert "olivia.lead@acme.example" not in html
    assert "carol@acme.example" not in html
    managers_view = client_as(manager).get(f"/queue/{assignment.pk}/").context["file"]
    assert sorted(c.pk for c in managers_view.other_contacts) == sorted(
        [theirs.lead.pk, unowned.pk, mine.pk]
    )


def test_another_sdrs_lead_is_not_found(client_as, sdr, other_sdr, desk):
    theirs = mql_for(other_sdr)

    assert client_as(sdr).get(f"/queue/{theirs.pk}/").status_code == 404


def test_a_manager_sees_any_lead_read_only(client_as, manager, sdr, desk):
    assignment = mql_for(sdr)

    response = client_as(manager).get(f"/queue/{assignment.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["can_act"] is False
    assert "Read-only: assigned to Sam Reyes" in html
    assert "Accept as SAL" not in html


def test_marketing_ops_get_403_on_lead_pages(client_as, marketing_ops, sdr, desk):
    assignment = mql_for(sdr)

    assert client_as(marketing_ops).get(f"/queue/{assignment.pk}/").status_code == 403


@pytest.mark.parametrize("count", [1, 10])
def test_the_lead_page_costs_the_same_queries_for_1_or_10_contacts_and_touches(
    client_as, sdr, desk, count, django_assert_num_queries
):
    from routing.services import log_touch

    assignment = mql_for(sdr, email="ada@acme.example")
    for n in range(count):
        colleague, _ = upsert_lead(email=f"colleague{n}@acme.example", source=factories.source())
        Lead.objects.filter(pk=colleague.pk).update(owner=sdr)  # contacts she may see
        log_touch(assignment=assignment, by=sdr, kind="call", note=f"call {n}")
    client = client_as(sdr)

    # session, user, roles, assignment, touches, stage history, snapshot, contacts,
    # account score, timeline, notice count
    with django_assert_num_queries(11):
        response = client.get(f"/queue/{assignment.pk}/")

    assert len(response.context["touches"]) == count
    assert len(response.context["file"].other_contacts) == count
