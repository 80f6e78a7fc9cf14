"""Scoring's listeners on the leads app's hand-off signals."""

from django.db import transaction
from django.dispatch import receiver

from leads.signals import activities_recorded, leads_changed


@receiver(activities_recorded, dispatch_uid="scoring-rescore-on-activity")
@receiver(leads_changed, dispatch_uid="scoring-rescore-on-lead-change")
def rescore_after_commit(sender, lead_ids, **kwargs) -> None:
    """New events or new lead data: rescore those leads once the write commits.
    If the broker is down at that moment, the periodic sweep catches up."""
    from scoring.tasks import rescore_leads

    ids = sorted(lead_ids)
    transaction.on_commit(lambda: rescore_leads.delay(lead_ids=ids))
