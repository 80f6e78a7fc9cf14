"""Routing under concurrency, on PostgreSQL with real parallel transactions."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from routing.models import Assignment, AssignmentStatus
from routing.services import route_mql


@pytest.mark.django_db(transaction=True)
def test_mqls_arriving_at_once_never_push_an_sdr_over_capacity(
        reference_data_kept, inbound, make_sdr, make_mql):
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

    open_by_sdr = Counter(Assignment.objects.filter(status=AssignmentStatus.OPEN)
                          .values_list("sdr__username", flat=True))
    assert open_by_sdr == {"sam": 5, "olivia": 5}
    assert Assignment.objects.filter(status=AssignmentStatus.WAITING).count() == 14
    # Every lead has exactly one open or waiting assignment, never two.
    assert Counter(Assignment.objects.values_list("lead_id", flat=True)) == {
        lead.pk: 1 for lead in leads}
