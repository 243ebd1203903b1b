"""Notification tasks: thin, ids in, one call each (salesmgmt.task_queue.RETRY_POLICY)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task

from salesmgmt.task_queue import MAIL_RETRY_POLICY, RETRY_POLICY

from . import mail, reminders, services


@shared_task(**MAIL_RETRY_POLICY)
def send_email(send_id: int) -> str | None:
    return mail.email_send(send_id=send_id)


@shared_task(**RETRY_POLICY)
def send_due_digests() -> int:
    """Hourly: queue the weekly digest of everyone whose day and hour have come."""
    return len(mail.digests_queue_due())


@shared_task(**RETRY_POLICY)
def sweep_email_sends() -> int:
    return len(mail.email_sends_sweep())


@shared_task(**RETRY_POLICY)
def raise_reminders(at: str | None = None) -> int:
    """Hourly: the reminders due now (``at``, an ISO time, replays a moment: tests, ops)."""
    now = dt.datetime.fromisoformat(at) if at else None
    return reminders.reminders_raise(now=now)


@shared_task(**RETRY_POLICY)
def purge_notifications() -> int:
    return services.notifications_purge()


@shared_task(**RETRY_POLICY)
def purge_email_sends() -> int:
    return services.email_sends_purge()
