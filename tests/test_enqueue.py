"""Work sent to the workers after a write commits: a broker that is down then
must not turn the committed write into an error page."""

import logging

import pytest
from kombu.exceptions import OperationalError as BrokerUnavailable

from leads.models import Stage
from routing.models import AssignmentStatus, Queue
from tests.routing.test_queue_pages import mql_for, seat


@pytest.fixture
def broker_down(monkeypatch):
    """Every publish fails as kombu reports a refused connection."""
    def refuse(*args, **kwargs):
        raise BrokerUnavailable("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    for task in ("routing.tasks.assign_waiting_leads", "routing.tasks.route_mql",
                 "scoring.tasks.rescore_leads", "scoring.tasks.rescore_after_events"):
        monkeypatch.setattr(f"{task}.delay", refuse)


@pytest.mark.django_db(transaction=True)  # the decision commits, and its callbacks run
def test_an_sdr_decision_goes_through_with_the_broker_down(reference_data_kept, sdr, other_sdr,
                                                           client_as, broker_down, caplog):
    seat([sdr, other_sdr], Queue.objects.filter(name__in=["Demo requests", "Inbound MQLs"]))
    assignment = mql_for(sdr)

    caplog.clear()  # making the MQL could not queue its own messages either
    with caplog.at_level(logging.WARNING, logger="handoff.enqueue"):
        response = client_as(sdr).post(f"/queue/{assignment.pk}/accept/", {"note": ""})

    assert (response.status_code, response["Location"]) == (302, f"/queue/{assignment.pk}/")
    assignment.refresh_from_db()
    assert (assignment.status, assignment.lead.stage) == (AssignmentStatus.ACCEPTED, Stage.SAL)
    assert [r.getMessage() for r in caplog.records] == [
        "The broker is unavailable (Error 111 connecting to 127.0.0.1:6379. Connection "
        "refused.): routing.assign_waiting_leads was not queued for "
        f"{{'queue_id': {assignment.queue_id}}}; the periodic sweep will do it."]
