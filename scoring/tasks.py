"""Scoring tasks: thin, named, ids as keyword arguments, idempotent."""

from datetime import timedelta

from celery import shared_task

from scoring import services


@shared_task(name="scoring.rescore_leads")
def rescore_leads(*, lead_ids: list[int]) -> None:
    services.rescore_leads(lead_ids=lead_ids)


@shared_task(name="scoring.rescore_after_events")
def rescore_after_events(*, lead_ids: list[int]) -> None:
    services.rescore_after_events(lead_ids=lead_ids)


@shared_task(name="scoring.rescore_chunk")
def rescore_chunk(*, chunk_id: int) -> None:
    services.run_rescore_chunk(chunk_id=chunk_id)


@shared_task(name="scoring.apply_decay")
def apply_decay() -> None:
    services.start_decay_rescore()


@shared_task(name="scoring.sweep_unscored_leads")
def sweep_unscored_leads(*, settle_seconds: int = 30) -> None:
    services.sweep_unscored_leads(settle=timedelta(seconds=settle_seconds))


@shared_task(name="scoring.score_accounts")
def score_accounts(*, account_ids: list[int]) -> None:
    services.score_accounts(account_ids=account_ids)


@shared_task(name="scoring.sweep_account_scores")
def sweep_account_scores() -> None:
    services.sweep_stale_account_scores()
