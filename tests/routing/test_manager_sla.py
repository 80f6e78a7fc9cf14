"""The manager's SLA page: each number on a worked example, the filters, who
may see it, its locked query count, and the CSV export of breaches."""

import csv
import io
import json
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from routing.models import Assignment, AssignmentStatus, Queue
from routing.reports.filters import SLAFilterForm, SLAFilters
from routing.reports.queries import (
    AgeBucket,
    BreachStats,
    breach_lines,
    breaches_by_queue,
    breaches_by_sdr,
    breaches_per_day,
    open_by_age,
    sla_summary,
    waiting_reasons,
)
from tests import factories

URL = "/manager/sla/"
CSV_URL = "/manager/sla/breaches.csv"
NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
MARCH = SLAFilters(start=date(2025, 3, 1), end=date(2025, 3, 14))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


def make_assignment(
    *,
    queue: Queue,
    sdr: User | None = None,
    status=AssignmentStatus.OPEN,
    created: datetime | None = None,
    assigned: datetime | None = None,
    due: datetime | None = None,
    touched: datetime | None = None,
    breached: datetime | None = None,
    closed: datetime | None = None,
    lead=None,
    waiting_reason: str = "",
) -> Assignment:
    assignment = Assignment.objects.create(
        lead=lead or factories.make_lead(),
        queue=queue,
        sdr=sdr,
        status=status,
        assigned_at=assigned,
        due_at=due,
        first_touch_at=touched,
        breached_at=breached,
        closed_at=closed,
        waiting_reason=waiting_reason,
    )
    # created_at is set on insert; the example needs it in the past.
    Assignment.objects.filter(pk=assignment.pk).update(created_at=created or assigned or NOW)
    return assignment


@pytest.fixture
def example(inbound, demo_queue, sdr, other_sdr):
    """Three deadlines in March with an outcome, and three that do not count.

    A  Sam, Inbound: due 11 Mar 09:00, never touched; the watcher marked it
       breached at 09:05 and it is still open.          breach
    B  Sam, Inbound: due 12 Mar 10:00, first touch 13:00, 27 h after it was
       assigned.                                         breach (touched late)
    C  Olivia, Demo requests: due 12 Mar 10:00, first touch 08:30, 30 min after
       it was assigned.                                  on time
    D  Sam, Inbound: due 15 Mar, untouched: no outcome yet; open, routed 3 h ago.
    E  Sam, Inbound: due 27 Feb and breached: before the period.
    W  Inbound: waiting for an SDR, routed 30 min ago.
    """
    return {
        "A": make_assignment(
            queue=inbound, sdr=sdr, assigned=at(10, 9), due=at(11, 9), breached=at(11, 9, 5)
        ),
        "B": make_assignment(
            queue=inbound,
            sdr=sdr,
            status=AssignmentStatus.ACCEPTED,
            assigned=at(11, 10),
            due=at(12, 10),
            touched=at(12, 13),
            closed=at(12, 13),
        ),
        "C": make_assignment(
            queue=demo_queue,
            sdr=other_sdr,
            status=AssignmentStatus.ACCEPTED,
            assigned=at(12, 8),
            due=at(12, 10),
            touched=at(12, 8, 30),
            closed=at(12, 8, 30),
        ),
        "D": make_assignment(queue=inbound, sdr=sdr, assigned=at(14, 9), due=at(15, 9)),
        "E": make_assignment(
            queue=inbound,
            sdr=sdr,
            status=AssignmentStatus.REASSIGNED,
            assigned=datetime(2025, 2, 26, 9, tzinfo=UTC),
            due=datetime(2025, 2, 27, 9, tzinfo=UTC),
            breached=datetime(2025, 2, 27, 9, 5, tzinfo=UTC),
            closed=datetime(2025, 2, 27, 10, tzinfo=UTC),
        ),
        "W": make_assignment(
            queue=inbound,
            status=AssignmentStatus.WAITING,
            created=at(14, 11, 30),
            waiting_reason="Nobody in Inbound MQLs can take it: no members.",
        ),
    }


# --- The numbers, on the worked example ------------------------------------------------------


def test_the_summary_counts_two_breaches_of_three_deadlines_and_the_median_first_touch(example):
    assert sla_summary(MARCH, now=NOW) == BreachStats(
        name="All",
        due=3,
        breached=2,
        touched_late=1,
        touched=2,
        # The median of 27 h (B) and 30 min (C) is their mean.
        median_first_touch=timedelta(hours=13, minutes=45),
    )


def test_the_breach_rate_is_breaches_over_deadlines_due(example):
    assert round(sla_summary(MARCH, now=NOW).breach_rate, 3) == 66.667


def test_with_nothing_due_the_rate_and_median_are_unknown(example):
    quiet = SLAFilters(start=date(2025, 3, 2), end=date(2025, 3, 3))

    summary = sla_summary(quiet, now=NOW)

    assert (summary.due, summary.breach_rate, summary.median_first_touch_text) == (0, None, "n/a")


def test_breaches_by_sdr_put_the_sdr_with_most_breaches_first(example):
    assert breaches_by_sdr(MARCH, now=NOW) == [
        BreachStats(
            name="Sam Reyes",
            due=2,
            breached=2,
            touched_late=1,
            touched=1,
            median_first_touch=timedelta(hours=27),
        ),
        BreachStats(
            name="Olivia Park",
            due=1,
            breached=0,
            touched_late=0,
            touched=1,
            median_first_touch=timedelta(minutes=30),
        ),
    ]


def test_breaches_by_queue(example):
    assert breaches_by_queue(MARCH, now=NOW) == [
        BreachStats(
            name="Inbound MQLs",
            due=2,
            breached=2,
            touched_late=1,
            touched=1,
            median_first_touch=timedelta(hours=27),
        ),
        BreachStats(
            name="Demo requests",
            due=1,
            breached=0,
            touched_late=0,
            touched=1,
            median_first_touch=timedelta(minutes=30),
        ),
    ]


def test_breaches_per_day_cover_every_day_of_the_period_by_the_day_of_the_deadline(example):
    days = breaches_per_day(MARCH, now=NOW)

    assert len(days) == 14
    assert [(day, n) for day, n in days if n] == [(date(2025, 3, 11), 1), (date(2025, 3, 12), 1)]
    assert (days[0], days[-1]) == ((date(2025, 3, 1), 0), (date(2025, 3, 14), 0))


def test_a_breach_belongs_to_the_day_of_its_deadline_in_the_current_time_zone(
    inbound, sdr, settings
):
    settings.TIME_ZONE = "America/New_York"  # UTC-4 in March
    make_assignment(
        queue=inbound, sdr=sdr, assigned=at(11, 2), due=at(12, 2), breached=at(12, 2, 5)
    )

    days = breaches_per_day(MARCH, now=NOW)

    assert [(day, n) for day, n in days if n] == [(date(2025, 3, 11), 1)]


def test_open_mqls_by_age_count_open_and_waiting_apart(example):
    assert open_by_age(MARCH, now=NOW) == [
        AgeBucket("< 1 h", open=0, waiting=1),
        AgeBucket("1\N{EN DASH}4 h", open=1, waiting=0),
        AgeBucket("4\N{EN DASH}24 h", open=0, waiting=0),
        AgeBucket("1\N{EN DASH}3 d", open=0, waiting=0),
        AgeBucket("> 3 d", open=1, waiting=0),
    ]


def test_an_mql_routed_exactly_an_hour_ago_is_in_the_one_to_four_hours_bucket(inbound, sdr):
    make_assignment(
        queue=inbound, sdr=sdr, assigned=NOW - timedelta(hours=1), due=NOW + timedelta(hours=23)
    )

    buckets = open_by_age(MARCH, now=NOW)

    assert [(b.label, b.open) for b in buckets if b.open] == [("1\N{EN DASH}4 h", 1)]


def test_waiting_reasons_are_counted_most_common_first(inbound):
    full = "Nobody in Inbound MQLs can take it: sam full (25/25)."
    for reason in [full, full, "Nobody in Inbound MQLs can take it: no members."]:
        make_assignment(queue=inbound, status=AssignmentStatus.WAITING, waiting_reason=reason)

    assert waiting_reasons(MARCH) == [
        (full, 2),
        ("Nobody in Inbound MQLs can take it: no members.", 1),
    ]


# --- Filters -----------------------------------------------------------------------------------


def test_the_queue_filter_keeps_one_queue(example, demo_queue):
    filters = SLAFilters(start=MARCH.start, end=MARCH.end, queue=demo_queue)

    assert [row.name for row in breaches_by_queue(filters, now=NOW)] == ["Demo requests"]
    assert (sla_summary(filters, now=NOW).due, sla_summary(filters, now=NOW).breached) == (1, 0)
    assert sum(b.open + b.waiting for b in open_by_age(filters, now=NOW)) == 0


def test_the_sdr_filter_keeps_one_sdr_and_no_waiting_mql(example, sdr):
    filters = SLAFilters(start=MARCH.start, end=MARCH.end, sdr=sdr)

    assert [row.name for row in breaches_by_sdr(filters, now=NOW)] == ["Sam Reyes"]
    assert (sla_summary(filters, now=NOW).due, sla_summary(filters, now=NOW).breached) == (2, 2)
    assert [(b.open, b.waiting) for b in open_by_age(filters, now=NOW)] == [
        (0, 0),
        (1, 0),
        (0, 0),
        (0, 0),
        (1, 0),
    ]


def test_the_period_keeps_the_deadlines_of_its_days(example):
    twelfth = SLAFilters(start=date(2025, 3, 12), end=date(2025, 3, 12))

    summary = sla_summary(twelfth, now=NOW)

    assert (summary.due, summary.breached, summary.touched_late) == (2, 1, 1)
    assert breaches_per_day(twelfth, now=NOW) == [(date(2025, 3, 12), 1)]


def test_an_open_ended_period_includes_a_breach_marked_ahead_of_the_clock(inbound, sdr):
    # The watcher was run with a later "now": the breach is dated after today.
    make_assignment(queue=inbound, sdr=sdr, assigned=at(15, 9), due=at(16, 9), breached=at(16, 10))
    open_ended = SLAFilters(start=date(2025, 3, 1))

    days = breaches_per_day(open_ended, now=NOW)

    assert sla_summary(open_ended, now=NOW).breached == 1
    assert (len(days), days[-1]) == (16, (date(2025, 3, 16), 1))


def test_the_form_defaults_to_the_last_thirty_days_open_ended(db):
    form = SLAFilterForm({}, today=date(2025, 3, 14))

    assert form.is_valid()
    assert form.filters() == SLAFilters(start=date(2025, 2, 13), end=None)
    assert form.filters().since == datetime(2025, 2, 13, tzinfo=UTC)
    assert form.filters().until is None


def test_the_form_counts_thirty_days_back_from_a_given_end(db):
    form = SLAFilterForm({"end": "2025-01-31"}, today=date(2025, 3, 14))

    assert form.is_valid()
    assert form.filters() == SLAFilters(start=date(2025, 1, 2), end=date(2025, 1, 31))
    assert form.filters().until == datetime(2025, 2, 1, tzinfo=UTC)


def test_the_form_takes_a_queue_and_an_sdr(sdr, demo_queue):
    form = SLAFilterForm({"queue": demo_queue.pk, "sdr": sdr.pk}, today=date(2025, 3, 14))

    assert form.is_valid()
    assert (form.filters().queue, form.filters().sdr) == (demo_queue, sdr)


def test_the_form_refuses_a_period_that_ends_before_it_starts(db):
    form = SLAFilterForm({"start": "2025-03-10", "end": "2025-03-09"}, today=date(2025, 3, 14))

    assert form.errors == {"__all__": ["The period must end on or after the day it starts."]}


def test_the_form_refuses_a_period_longer_than_a_year(db):
    form = SLAFilterForm({"start": "2024-03-13"}, today=date(2025, 3, 14))

    assert form.errors == {"__all__": ["Choose a period of at most 366 days."]}


def test_the_sdr_filter_offers_only_sdrs(sdr, other_sdr, manager, marketing_ops):
    form = SLAFilterForm({}, today=date(2025, 3, 14))

    assert [label for _, label in form.fields["sdr"].choices] == [
        "All SDRs",
        "Olivia Park",
        "Sam Reyes",
    ]


# --- Who may see it ----------------------------------------------------------------------------


@pytest.mark.parametrize("url", [URL, CSV_URL])
def test_a_sales_manager_may_see_it(client_as, manager, url):
    assert client_as(manager).get(url).status_code == 200


def test_a_superuser_may_see_it(client_as, db):
    admin = User.objects.create_superuser("root", password="x-long-password")

    assert client_as(admin).get(URL).status_code == 200


@pytest.mark.parametrize("url", [URL, CSV_URL])
@pytest.mark.parametrize("who", ["sdr", "marketing_ops"])
def test_sdrs_and_marketing_ops_are_refused(db, client_as, request, who, url):
    assert client_as(request.getfixturevalue(who)).get(url).status_code == 403


@pytest.mark.parametrize("url", [URL, CSV_URL])
def test_an_anonymous_visitor_is_sent_to_log_in(client, db, url):
    response = client.get(url)

    assert (response.status_code, response["Location"]) == (302, f"/login/?next={url}")


# --- The page ----------------------------------------------------------------------------------


def test_before_any_mql_is_routed_the_page_says_what_will_show(client_as, manager):
    response = client_as(manager).get(URL)

    assert response.status_code == 200
    assert "No MQL has been routed yet" in response.text
    assert 'id="sla-breaches-chart"' not in response.text


def _days_ago(days: int, hour: int, minute: int = 0) -> datetime:
    day = timezone.localdate() - timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_current_timezone())


@pytest.fixture
def recent_breach(inbound, sdr):
    """One breach five days ago, touched three hours late."""
    return make_assignment(
        queue=inbound,
        sdr=sdr,
        status=AssignmentStatus.ACCEPTED,
        assigned=_days_ago(6, 10),
        due=_days_ago(5, 10),
        touched=_days_ago(5, 13),
        closed=_days_ago(5, 13),
    )


def test_the_page_shows_the_tiles_tables_and_the_chart_data(client_as, manager, recent_breach):
    response = client_as(manager).get(URL)
    html = response.text

    assert response.status_code == 200
    tiles = {
        tile: re.search(rf'id="tile-{tile}">.*?class="sla-number">(.*?)</p>', html, re.S).group(1)
        for tile in ("open", "breached", "rate", "median")
    }
    assert tiles == {"open": "0", "breached": "1", "rate": "100.0 %", "median": "1 d 3 h"}
    by_sdr = re.search(r'<table id="sla-by-sdr">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    assert re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", by_sdr) == [
        "Sam Reyes",
        "1",
        "1",
        "1",
        "100.0 %",
        "1 d 3 h",
    ]
    data = json.loads(
        re.search(
            r'<script id="sla-breaches-per-day" type="application/json">(.*?)</script>', html, re.S
        ).group(1)
    )
    assert len(data["labels"]) == 30
    assert data["labels"][-1] == timezone.localdate().isoformat()
    assert data["breaches"] == [0] * 24 + [1] + [0] * 5


def test_the_page_runs_no_inline_script(client_as, manager, recent_breach):
    html = client_as(manager).get(URL).text

    scripts = re.findall(r"<script\b([^>]*)>", html)
    assert [s for s in scripts if "src=" not in s and 'type="application/json"' not in s] == []
    assert ' src="/static/vendor/chartjs/chart.umd.' in html
    assert ' src="/static/routing/sla_chart.' in html


def test_a_bad_period_is_answered_with_the_form_and_its_message(client_as, manager, recent_breach):
    response = client_as(manager).get(URL, {"start": "2025-03-10", "end": "2025-03-09"})

    assert response.status_code == 400
    assert "The period must end on or after the day it starts." in response.text


def _assignments(count: int, *, inbound: Queue, sdrs: list[User]) -> None:
    for i in range(count):
        make_assignment(
            queue=inbound,
            sdr=sdrs[i % len(sdrs)],
            status=AssignmentStatus.ACCEPTED,
            assigned=_days_ago(3, 9),
            due=_days_ago(2, 9),
            touched=_days_ago(2, 9 + i % 3),
            closed=_days_ago(2, 10),
        )


@pytest.mark.parametrize("count", [1, 20])
def test_the_page_runs_the_same_queries_for_one_or_many_assignments(
    client_as, manager, inbound, make_sdr, django_assert_num_queries, count
):
    sdrs = [make_sdr(f"sdr{i}") for i in range(min(count, 5))]
    _assignments(count, inbound=inbound, sdrs=sdrs)
    client = client_as(manager)

    # Session, user, roles; any assignment?; the rollup's state (none yet);
    # summary, by SDR and their names, by
    # queue and their names, per day, open by age, waiting reasons; the queue and
    # SDR choices of the filters.
    with django_assert_num_queries(16):  # 15 + the unread notices in the navigation
        response = client.get(URL)

    assert response.status_code == 200
    assert response.context["report"].summary.due == count


# --- CSV export ----------------------------------------------------------------------------------


def test_minutes_overdue_run_to_the_first_touch_or_to_now_while_untouched(example, inbound, sdr):
    make_assignment(
        queue=inbound, sdr=sdr, assigned=at(12, 9), due=at(13, 9), breached=at(13, 9, 5)
    )

    lines = list(breach_lines(MARCH, now=NOW))

    assert [(line.lead_id, line.minutes_overdue) for line in lines] == [
        (example["A"].lead_id, 3 * 24 * 60 + 3 * 60),  # untouched and open: until now
        (example["B"].lead_id, 180),  # touched 3 h late
        (lines[2].lead_id, 27 * 60),
    ]


def test_the_csv_export_is_exact_and_neutralises_formulas(client_as, manager, inbound, sdr):
    lead = factories.make_lead(
        '=HYPERLINK("https://evil.example","x")@example.com',
        first_name='=HYPERLINK("https://evil.example","Open")',
        last_name="",
    )
    make_assignment(
        queue=inbound,
        sdr=sdr,
        status=AssignmentStatus.REASSIGNED,
        lead=lead,
        assigned=_days_ago(6, 9),
        due=_days_ago(5, 9),
        breached=_days_ago(5, 9, 5),
        closed=_days_ago(5, 10, 30),
    )
    late = make_assignment(
        queue=inbound,
        sdr=sdr,
        status=AssignmentStatus.ACCEPTED,
        assigned=_days_ago(5, 10),
        due=_days_ago(4, 10),
        touched=_days_ago(4, 13),
        closed=_days_ago(4, 13),
    )
    make_assignment(
        queue=inbound,
        sdr=sdr,
        status=AssignmentStatus.ACCEPTED,  # on time
        assigned=_days_ago(4, 10),
        due=_days_ago(3, 10),
        touched=_days_ago(4, 11),
        closed=_days_ago(4, 11),
    )

    response = client_as(manager).get(CSV_URL)

    start = timezone.localdate() - timedelta(days=29)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="sla-breaches-from-{start:%Y-%m-%d}.csv"'
    )

    def iso(value: datetime) -> str:
        return value.isoformat(timespec="seconds")

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        [
            "lead_id",
            "lead_email",
            "lead_name",
            "queue",
            "sdr",
            "assigned_at",
            "due_at",
            "first_touch_at",
            "breached_at",
            "minutes_overdue",
        ],
        [
            str(lead.pk),
            '\'=HYPERLINK("https://evil.example","x")@example.com',
            '\'=HYPERLINK("https://evil.example","Open")',
            "Inbound MQLs",
            "Sam Reyes",
            iso(_days_ago(6, 9)),
            iso(_days_ago(5, 9)),
            "",
            iso(_days_ago(5, 9, 5)),
            "90",
        ],
        [
            str(late.lead_id),
            late.lead.email,
            "",
            "Inbound MQLs",
            "Sam Reyes",
            iso(_days_ago(5, 10)),
            iso(_days_ago(4, 10)),
            iso(_days_ago(4, 13)),
            "",
            "180",
        ],
    ]


def test_the_csv_export_follows_the_filters(client_as, manager, demo_queue, recent_breach):
    response = client_as(manager).get(CSV_URL, {"queue": demo_queue.pk})

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1  # the header alone: the breach is in Inbound MQLs


def test_the_csv_export_refuses_a_bad_period(client_as, manager):
    response = client_as(manager).get(CSV_URL, {"start": "2025-03-10", "end": "2025-03-09"})

    assert response.status_code == 400


def test_without_percentile_cont_each_sdr_and_queue_gets_its_median_in_python(example, monkeypatch):
    """The embedded SQLite default has no percentile_cont: the per-SDR and
    per-queue medians are taken in Python, the same values as in SQL."""
    from routing.reports import queries

    in_sql = (breaches_by_sdr(MARCH, now=NOW), breaches_by_queue(MARCH, now=NOW))
    monkeypatch.setattr(queries, "_median_in_sql", lambda using: False)

    assert (breaches_by_sdr(MARCH, now=NOW), breaches_by_queue(MARCH, now=NOW)) == in_sql
    assert [row.median_first_touch for row in in_sql[0]] == [
        timedelta(hours=27),
        timedelta(minutes=30),
    ]
