"""Feedback's listener on the leads app's hand-off signals."""

from django.dispatch import receiver

from leads.signals import lead_merging


@receiver(lead_merging, dispatch_uid="feedback-move-merged-lead")
def on_lead_merging(sender, survivor_id, duplicate_id, **kwargs) -> None:
    """Inside the merge (before the duplicate is deleted): its SQL records and
    opportunities become the survivor's."""
    from feedback.services import move_merged_lead

    move_merged_lead(survivor_id=survivor_id, duplicate_id=duplicate_id)
