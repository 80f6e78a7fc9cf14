"""Routing under concurrency, on PostgreSQL with real parallel transactions."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from routing.models import Assignment, AssignmentStatus, Membership
from routing.services import accept_mql, route_mql


@pytest.mark.django_db(transaction=True)
def test_mqls_arriving_at_once_never_push_an_sdr_over_capacity(
    reference_data_kept, inbound, make_sdr, make_mql
):
    make_sdr("sam", queue=inbound, capacity=5)
    make_sdr("olivia", queue=inbound, capacity=5)
    leads = [make_mql() for _ in range(24)]

    def route(lead_id: int) -> None:
        try:
            route_mql(lead_id=lead_id)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(route, [lead.pk for lead in leads] * 2))  # each lead twice, at once

    open_by_sdr = Counter(
        Assignment.objects.filter(status=AssignmentStatus.OPEN).values_list(
            "sdr__username", flat=True
        )
    )
    assert open_by_sdr == {"sam": 5, "olivia": 5}
    assert Assignment.objects.filter(status=AssignmentStatus.WAITING).count() == 14
    # Every lead has exactly one open or waiting assignment, never two.
    assert Counter(Assignment.objects.values_list("lead_id", flat=True)) == {
        lead.pk: 1 for lead in leads
    }


@pytest.mark.django_db(transaction=True)
def test_concurrent_routings_and_decisions_keep_each_open_count_exact(
    reference_data_kept, inbound, make_sdr, make_mql
):
    """Routing reads each member's open count under the memberships' lock; SDRs
    accepting at the same moment free places. Afterwards every count is the
    real number of open assignments and nobody is over capacity."""
    sam = make_sdr("sam", queue=inbound, capacity=4)
    olivia = make_sdr("olivia", queue=inbound, capacity=4)
    first = [route_mql(lead_id=make_mql().pk) for _ in range(8)]  # both full
    later = [make_mql().pk for _ in range(16)]

    def work(item) -> None:
        try:
            if isinstance(item, int):
                route_mql(lead_id=item)
            else:
                accept_mql(assignment=item, by=item.sdr)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(
            pool.map(
                work, [x for pair in zip(later[:8], first, strict=True) for x in pair] + later[8:]
            )
        )

    real = Counter(
        Assignment.objects.filter(status=AssignmentStatus.OPEN).values_list(
            "sdr__username", flat=True
        )
    )
    counted = dict(Membership.objects.values_list("sdr__username", "open_count"))
    assert counted == {"sam": real["sam"], "olivia": real["olivia"]}
    assert max(counted.values()) <= 4
    assert {sam.username, olivia.username} == set(counted)
    # Every later MQL is either with an SDR or visibly waiting.
    assert (
        Counter(
            Assignment.objects.filter(lead_id__in=later).values_list("status", flat=True)
        ).total()
        == 16
    )
