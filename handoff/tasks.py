"""Kernel tasks: thin, named."""

from datetime import timedelta

from celery import Task, shared_task

from handoff import jobs
from handoff.enqueue import enqueue_each_on_commit
from handoff.notices import delivery
from handoff.webhooks import delivery as webhook_delivery


@shared_task(name="handoff.resend_lost_jobs")
def resend_lost_jobs() -> None:
    """Periodic: sends again every job whose message was lost or whose worker died."""
    jobs.resend_lost_jobs()


# The service counts attempts on the notice and stops retrying by itself;
# max_retries only guards against a loop.
@shared_task(name="handoff.deliver_notice", bind=True, max_retries=20)
def deliver_notice(self: Task, *, notice_id: int) -> None:
    """Sends a notice's email and chat message; retries, with the service's
    backoff, only what may work later."""
    try:
        delivery.deliver_notice(notice_id=notice_id)
    except delivery.TryAgainLater as error:
        raise self.retry(countdown=error.retry_in.total_seconds(), exc=error) from None


@shared_task(name="handoff.resend_notices")
def resend_notices() -> None:
    """Periodic: delivers the notices whose message was lost."""
    enqueue_each_on_commit(
        deliver_notice, [{"notice_id": pk} for pk in delivery.undelivered_notices()]
    )


# Retries are the service's own schedule (backoff with jitter, for
# WEBHOOK_RETRY_HOURS); max_retries only guards against a loop, and the sweep
# picks up whatever a message that stopped retrying left.
@shared_task(name="handoff.deliver_webhooks", bind=True, max_retries=200)
def deliver_webhooks(self: Task, *, endpoint_id: int) -> None:
    """Sends an endpoint's pending webhooks in order; comes back when the
    service says something is left for later."""
    try:
        webhook_delivery.deliver_webhooks(endpoint_id=endpoint_id)
    except webhook_delivery.TryAgainLater as error:
        raise self.retry(countdown=error.retry_in.total_seconds(), exc=error) from None


@shared_task(name="handoff.resend_webhooks")
def resend_webhooks(grace_seconds: float = webhook_delivery.SWEEP_GRACE.total_seconds()) -> None:
    """Periodic: sends to the endpoints whose webhooks' message was lost."""
    lost = webhook_delivery.endpoints_with_work(grace=timedelta(seconds=grace_seconds))
    enqueue_each_on_commit(deliver_webhooks, [{"endpoint_id": pk} for pk in lost])
