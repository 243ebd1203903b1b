"""Celery tasks of capture: the message in, one service call, retries on infrastructure errors."""

from __future__ import annotations

import base64

from celery import shared_task

from salesmgmt.task_queue import RETRY_POLICY

from . import services
from .models import CalendarSubscription


# The raw message travels in the task (base64: the broker speaks JSON) instead of a table:
# nothing of it is stored but what capture keeps. Until the gateway has queued it, the
# sending MTA holds it (the gateway answers 451 when the broker is down), so none is lost.
# Idempotent: a message already captured for a person (its Message-ID) is found, not added.
@shared_task(**RETRY_POLICY)
def capture_mail(raw_base64: str, recipients: list[str]) -> list[int]:
    raw = base64.b64decode(raw_base64)
    return services.captured_mail_receive(raw=raw, recipients=recipients)


@shared_task(**RETRY_POLICY)
def capture_calendar_fetch(subscription_id: int) -> int:
    """Read one subscribed calendar; safe to run twice (a re-read changes nothing)."""
    subscription = CalendarSubscription.objects.filter(pk=subscription_id).first()
    if subscription is None:
        return 0
    return services.calendar_subscription_fetch(subscription=subscription).created


@shared_task(**RETRY_POLICY)
def capture_calendars_fetch_all() -> int:
    """The schedule's sweep: one fetch task per subscribed calendar."""
    ids = list(CalendarSubscription.objects.values_list("pk", flat=True))
    for pk in ids:
        capture_calendar_fetch.delay(pk)
    return len(ids)


@shared_task(**RETRY_POLICY)
def purge_captured_items() -> int:
    """Nightly: captured items older than CAPTURE_KEEP_DAYS (retention)."""
    return services.captured_items_purge()
