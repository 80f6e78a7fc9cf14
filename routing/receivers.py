"""Routing's listener on scoring's hand-off point."""

from django.dispatch import receiver

from handoff.enqueue import enqueue_on_commit
from scoring.signals import lead_became_mql


@receiver(lead_became_mql, dispatch_uid="routing-route-new-mql")
def route_after_commit(sender, lead_id, **kwargs) -> None:
    """A new MQL is routed once the crossing commits. If the message is lost,
    the SLA watcher's pass routes MQLs that have no assignment."""
    from routing.tasks import route_new_mql

    enqueue_on_commit(route_new_mql, lead_id=lead_id)
