"""Celery tasks of the core: ids in, one service call, retries on infrastructure errors."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from . import webhooks
from .refresh.tasks import refresh_aggregate, refresh_sweep  # noqa: F401  (autodiscovery)
from .task_queue import RETRY_POLICY

# Delivery attempts are bounded by the service (WEBHOOK_MAX_ATTEMPTS); Celery's own bound
# leaves room for as many database hiccups on top, so an outage cannot retry forever either.
# A task that gives up is recorded as a FailedTask (salesmgmt.task_failures).
DELIVERY_MAX_RETRIES = settings.WEBHOOK_MAX_ATTEMPTS * 2


@shared_task(bind=True, **{**RETRY_POLICY, "max_retries": DELIVERY_MAX_RETRIES})
def deliver_webhook(self, delivery_id: int) -> str | None:
    """One attempt; on a retryable failure, schedule the next with exponential backoff.

    In eager mode (no broker) the retry is left to ``enqueue_overdue_webhooks`` so a request
    never waits.
    """
    outcome = webhooks.attempt_delivery(delivery_id=delivery_id)
    if outcome is None:
        return None
    if outcome.retry_in is not None and not self.request.is_eager:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(**RETRY_POLICY)
def enqueue_overdue_webhooks() -> int:
    return webhooks.enqueue_overdue_deliveries()


@shared_task(**RETRY_POLICY)
def purge_idempotency_records() -> int:
    from .api.idempotency import purge_expired

    return purge_expired()
