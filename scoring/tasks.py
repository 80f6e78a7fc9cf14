"""Scoring tasks: thin, named, ids as keyword arguments, idempotent.

Each task function is named for the occasion it handles, apart from the
service it calls; its Celery name (``name=``) is what queued messages and the
beat schedule refer to, and stays as it was.
"""

from datetime import timedelta

from celery import shared_task

from scoring import services


@shared_task(name="scoring.rescore_leads")
def rescore_changed_leads(*, lead_ids: list[int]) -> None:
    """Leads whose own data changed (a title, an account)."""
    services.rescore_leads(lead_ids=lead_ids)


@shared_task(name="scoring.rescore_after_events")
def rescore_engaged_leads(*, lead_ids: list[int]) -> None:
    """Leads that received new activity events."""
    services.rescore_after_events(lead_ids=lead_ids)


@shared_task(name="scoring.rescore_chunk")
def rescore_chunk(*, chunk_id: int) -> None:
    services.run_rescore_chunk(chunk_id=chunk_id)


@shared_task(name="scoring.apply_decay")
def apply_decay() -> None:
    services.start_decay_rescore()


@shared_task(name="scoring.sweep_unscored_leads")
def catch_up_unscored_leads(*, settle_seconds: int = 30) -> None:
    """Periodic: scores the leads whose rescore message was lost."""
    services.sweep_unscored_leads(settle=timedelta(seconds=settle_seconds))


@shared_task(name="scoring.score_accounts")
def refresh_account_scores(*, account_ids: list[int]) -> None:
    """Accounts whose contacts' scores or own data changed."""
    services.score_accounts(account_ids=account_ids)


@shared_task(name="scoring.sweep_account_scores")
def sweep_account_scores() -> None:
    services.sweep_stale_account_scores()
