"""Privacy's listener on the leads app's hand-off signals."""

from django.dispatch import receiver

from leads.signals import lead_merging


@receiver(lead_merging, dispatch_uid="privacy-move-merged-lead")
def on_lead_merging(sender, survivor_id, duplicate_id, **kwargs) -> None:
    """Inside the merge (before the duplicate is deleted): the record of an
    erasure done on the duplicate stays, on the survivor (the lead it now is)."""
    from privacy.services import move_merged_lead

    move_merged_lead(survivor_id=survivor_id, duplicate_id=duplicate_id)
