"""Routing tasks: thin, named, ids as keyword arguments, idempotent.

Each task function is named apart from the service it calls; its Celery name
(``name=``) is what queued messages and the beat schedule refer to, and stays
as it was.
"""

from celery import shared_task

from routing import services
from routing.services import sla_rollup


@shared_task(name="routing.route_mql")
def route_new_mql(*, lead_id: int) -> None:
    services.route_mql(lead_id=lead_id)


@shared_task(name="routing.assign_waiting_leads")
def assign_waiting_leads(*, queue_id: int) -> None:
    services.assign_waiting(queue_id=queue_id)


@shared_task(name="routing.watch_sla_clocks")
def run_sla_watcher() -> None:
    services.watch_sla_clocks()
    # In a transaction of its own: the repair locks memberships only where
    # it finds drift, and only for the recount.
    services.repair_open_counts()


@shared_task(name="routing.rebuild_sla_rollup")
def rebuild_sla_rollup() -> None:
    """Nightly: recomputes every day of the SLA rollup, which also corrects
    days changed without a mark (assignments deleted with their lead)."""
    sla_rollup.SLA_ROLLUP.rebuild()
