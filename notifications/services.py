"""Writes of the notifications app: store what people are told, their choices, read marks,
the reminders the clock raises, and the purge of old notifications.

Mail is a side effect: a notification whose kind the recipient receives at once gets an
``EmailSend`` row in the same transaction and its task is enqueued on commit
(``mail.email_send`` claims, sends and marks it; the sweep re-sends lost ones).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from salesmgmt.models import User
from salesmgmt.retention import delete_oldest, purge_in_batches

from .drafts import Draft
from .kinds import DEFAULT_CHANNELS, Channel, Kind
from .models import DigestSchedule, EmailSend, Notification, NotificationPreference


def channels_for(*, person_ids: list[int]) -> dict[tuple[int, str], str]:
    """Each (person, kind)'s chosen channel; kinds without a row take the default."""
    rows = NotificationPreference.objects.filter(person_id__in=person_ids).values_list(
        "person_id", "kind", "channel"
    )
    return {(person_id, kind): channel for person_id, kind, channel in rows}


def channel_of(chosen: dict[tuple[int, str], str], person_id: int, kind: str) -> str:
    return chosen.get((person_id, kind), DEFAULT_CHANNELS.get(kind, Channel.IN_APP))


def _store(draft: Draft) -> Notification | None:
    """Insert once per (recipient, dedupe key); None when it already exists."""
    try:
        with transaction.atomic():
            return Notification.objects.create(
                recipient=draft.recipient,
                kind=draft.kind,
                title=draft.title[:200],
                body=draft.body,
                link=draft.link,
                subject_label=draft.subject_label,
                subject_id=draft.subject_id,
                dedupe_key=draft.dedupe_key[:200],
            )
    except IntegrityError:
        return None


@transaction.atomic
def notifications_deliver(*, drafts: list[Draft]) -> list[Notification]:
    """Store each draft its recipient may open and wants; queue mail for "immediate" kinds.

    Idempotent: a draft whose key the recipient already has is skipped (and mailed never
    twice: ``EmailSend`` is unique per recipient and key too).
    """
    chosen = channels_for(person_ids=sorted({d.recipient.pk for d in drafts}))
    stored: list[Notification] = []
    for draft in drafts:
        channel = channel_of(chosen, draft.recipient.pk, draft.kind)
        if channel == Channel.OFF or not draft.recipient_may_open():
            continue
        notification = _store(draft)
        if notification is None:
            continue
        stored.append(notification)
        if channel == Channel.IMMEDIATE and draft.recipient.email:
            email_send_queue(notification=notification)
    return stored


def email_send_queue(*, notification: Notification) -> EmailSend | None:
    """Record the mail for ``notification`` and enqueue its send after commit."""
    send, created = EmailSend.objects.get_or_create(
        recipient_id=notification.recipient_id,
        dedupe_key=notification.dedupe_key,
        defaults={"kind": notification.kind, "notification": notification},
    )
    if not created:
        return None
    send_id = send.pk

    def enqueue_after_commit() -> None:
        from salesmgmt.task_queue import enqueue

        from . import tasks

        enqueue(tasks.send_email, args=[send_id])

    transaction.on_commit(enqueue_after_commit, robust=True)
    return send


# --- the inbox ------------------------------------------------------------------------------


@transaction.atomic
def notification_mark_read(*, actor: User, notification: Notification) -> Notification:
    """Mark one of the actor's own notifications read (the selector fetched it as theirs)."""
    if notification.recipient_id != actor.pk:
        raise ValidationError("This notification is not yours.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at", "updated_at"])
    return notification


@transaction.atomic
def notifications_mark_all_read(*, actor: User, kind: str = "") -> int:
    """Mark every unread notification of the actor read (of one kind if given)."""
    unread = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if kind:
        unread = unread.filter(kind=kind)
    now = timezone.now()
    return unread.update(read_at=now, updated_at=now)


# Rows a purge deletes per transaction: a first purge of years of rows (or one after the
# setting is lowered) is many short transactions, not one that holds millions of row locks
# and the mail records' updates until it ends.
def notifications_purge(*, now: dt.datetime | None = None) -> int:
    """Delete notifications older than NOTIFICATIONS_KEEP_DAYS, a batch per transaction (their
    mail records stay, unlinked); returns how many went. Idempotent: a re-run finds fewer."""
    return purge_in_batches(lambda: notifications_purge_batch(now=now))


def email_sends_purge(*, now: dt.datetime | None = None) -> int:
    """Delete finished mail records older than NOTIFICATIONS_EMAIL_KEEP_DAYS, in batches."""
    return purge_in_batches(lambda: email_sends_purge_batch(now=now))


@transaction.atomic
def notifications_purge_batch(*, now: dt.datetime | None = None, size: int | None = None) -> int:
    """The oldest ``size`` notifications past NOTIFICATIONS_KEEP_DAYS, deleted (one range of
    the created_at index, then their ids)."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.NOTIFICATIONS_KEEP_DAYS)
    return delete_oldest(Notification.objects.filter(created_at__lt=cutoff), size=size)


@transaction.atomic
def email_sends_purge_batch(*, now: dt.datetime | None = None, size: int | None = None) -> int:
    """The oldest ``size`` mail records past NOTIFICATIONS_EMAIL_KEEP_DAYS that are done with
    (sent, failed or skipped: a pending or claimed one is still the sweep's), deleted. Their
    dedupe key guards against a second send of the same mail, which nothing asks for after
    that long (a digest is queued for its own week only)."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.NOTIFICATIONS_EMAIL_KEEP_DAYS)
    finished = [EmailSend.Status.SENT, EmailSend.Status.FAILED, EmailSend.Status.SKIPPED]
    expired = EmailSend.objects.filter(created_at__lt=cutoff, status__in=finished)
    return delete_oldest(expired, size=size)


# --- preferences ----------------------------------------------------------------------------


@transaction.atomic
def preferences_update(
    *,
    actor: User,
    channels: dict[str, str] | None = None,
    digest: dict[str, object] | None = None,
) -> None:
    """Set the actor's channel per kind and their digest day, hour and time zone."""
    errors: dict[str, str] = {}
    for kind, channel in (channels or {}).items():
        if kind not in Kind.values:
            errors[kind] = "Unknown kind of notification."
        elif channel not in Channel.values:
            errors[kind] = f"Choose one of: {', '.join(Channel.values)}."
    if errors:
        raise ValidationError(errors)
    for kind, channel in (channels or {}).items():
        NotificationPreference.objects.update_or_create(
            person=actor, kind=kind, defaults={"channel": channel}
        )
    if digest is not None:
        _digest_update(actor, digest)


def _digest_update(actor: User, digest: dict[str, object]) -> DigestSchedule:
    unknown = set(digest) - {"weekday", "hour", "time_zone", "is_enabled"}
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    schedule = DigestSchedule.objects.filter(person=actor).first() or DigestSchedule(person=actor)
    for name, value in digest.items():
        setattr(schedule, name, value)
    schedule.full_clean()
    schedule.save()
    return schedule


def unsubscribe(*, person: User, kind: str) -> None:
    """The one-click unsubscribe: mail of ``kind`` stops (the inbox keeps it)."""
    if kind == "digest":
        _digest_update(person, {"is_enabled": False})
        return
    with transaction.atomic():
        NotificationPreference.objects.update_or_create(
            person=person, kind=kind, defaults={"channel": Channel.IN_APP}
        )
