"""Routing's listener on scoring's hand-off point."""

from django.dispatch import receiver

from handoff.enqueue import enqueue_on_commit
from leads.signals import lead_merging
from scoring.signals import lead_became_mql


@receiver(lead_became_mql, dispatch_uid="routing-route-new-mql")
def route_after_commit(sender, lead_id, **kwargs) -> None:
    """A new MQL is routed once the crossing commits. If the message is lost,
    the SLA watcher's pass routes MQLs that have no assignment."""
    from routing.tasks import route_new_mql

    enqueue_on_commit(route_new_mql, lead_id=lead_id)


@receiver(lead_merging, dispatch_uid="routing-move-merged-lead")
def on_lead_merging(sender, survivor_id, duplicate_id, by=None, **kwargs) -> None:
    """Inside the merge (before the duplicate is deleted): see routing.services.merging."""
    from routing.services.merging import move_merged_lead

    move_merged_lead(survivor_id=survivor_id, duplicate_id=duplicate_id, by=by)
