"""Retention of notifications (NOTIFICATIONS_KEEP_DAYS) and of the mail records
(NOTIFICATIONS_EMAIL_KEEP_DAYS): batch by batch, idempotent, pending mail untouched."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from notifications import services, tasks
from notifications.models import EmailSend, Notification
from salesmgmt.celery import beat_schedule
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db


def _aged(model, pk: int, days: int) -> None:
    model.objects.filter(pk=pk).update(created_at=timezone.now() - dt.timedelta(days=days))


def _send(recipient, key: str, *, status: str, days: int, notification=None) -> EmailSend:
    send = EmailSend.objects.create(
        recipient=recipient, dedupe_key=key, kind="deal_stale", status=status,
        notification=notification,
    )  # fmt: skip
    _aged(EmailSend, send.pk, days)
    return send


def test_notifications_purge_in_batches_until_none_is_left(rep_a, settings, monkeypatch):
    settings.NOTIFICATIONS_KEEP_DAYS = 30
    monkeypatch.setattr("salesmgmt.retention.PURGE_BATCH", 2)
    old = [NotificationFactory(recipient=rep_a) for _ in range(5)]
    for n, note in enumerate(old):
        _aged(Notification, note.pk, 31 + n)
    kept = NotificationFactory(recipient=rep_a)
    mailed = _send(rep_a, "mailed", status="sent", days=31, notification=old[0])

    assert services.notifications_purge_batch() == 2  # the oldest two first
    assert tasks.purge_notifications() == 3  # the nightly task: the rest
    assert tasks.purge_notifications() == 0

    assert list(Notification.objects.values_list("pk", flat=True)) == [kept.pk]
    mailed.refresh_from_db()
    assert mailed.notification_id is None  # the mail record stays, unlinked


def test_finished_mail_records_are_purged_and_pending_ones_kept(rep_a, settings):
    settings.NOTIFICATIONS_EMAIL_KEEP_DAYS = 365
    sent = _send(rep_a, "sent", status="sent", days=366)
    failed = _send(rep_a, "failed", status="failed", days=400)
    pending = _send(rep_a, "pending", status="pending", days=400)
    claimed = _send(rep_a, "claimed", status="claimed", days=400)
    recent = _send(rep_a, "recent", status="sent", days=300)

    assert tasks.purge_email_sends() == 2
    assert tasks.purge_email_sends() == 0

    left = set(EmailSend.objects.values_list("pk", flat=True))
    assert left == {pending.pk, claimed.pk, recent.pk}
    assert {sent.pk, failed.pk}.isdisjoint(left)


def test_both_purges_are_scheduled(settings):
    schedule = beat_schedule(settings)

    assert schedule["notifications-purge-nightly"]["task"] == (
        "notifications.tasks.purge_notifications"
    )
    assert schedule["notifications-purge-email-sends-nightly"]["task"] == (
        "notifications.tasks.purge_email_sends"
    )
