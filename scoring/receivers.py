"""Scoring's listeners on the leads app's hand-off signals."""

from django.dispatch import receiver

from handoff.enqueue import enqueue_on_commit
from leads.signals import activities_recorded, lead_merging, leads_changed


@receiver(activities_recorded, dispatch_uid="scoring-rescore-on-activity")
def on_activities_recorded(sender, lead_ids, **kwargs) -> None:
    """New events: rescore those leads once the write commits. If the broker
    is down at that moment, the periodic sweep catches up."""
    from scoring.tasks import rescore_engaged_leads

    enqueue_on_commit(rescore_engaged_leads, lead_ids=sorted(lead_ids))


@receiver(leads_changed, dispatch_uid="scoring-rescore-on-lead-change")
def on_leads_changed(sender, lead_ids, **kwargs) -> None:
    """New lead data (a title, an account): rescore the leads and their
    accounts once the write commits; the sweep catches up after an outage."""
    from scoring.tasks import rescore_changed_leads

    enqueue_on_commit(rescore_changed_leads, lead_ids=sorted(lead_ids))


@receiver(lead_merging, dispatch_uid="scoring-move-merged-lead")
def on_lead_merging(sender, survivor_id, duplicate_id, **kwargs) -> None:
    """Inside the merge (before the duplicate is deleted): see scoring.services.merging."""
    from scoring.services.merging import move_merged_lead

    move_merged_lead(survivor_id=survivor_id, duplicate_id=duplicate_id)
