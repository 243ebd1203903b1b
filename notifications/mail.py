"""Mail, sent by workers: one ``EmailSend`` row per mail, claimed, sent, marked.

Exactly-once as far as two systems allow: the row is unique per (recipient, key), so a
second enqueue or a re-run finds it claimed or sent and does nothing; a worker killed after
its claim leaves the row claimed, and ``email_sends_sweep`` hands it to another worker once
the claim is older than NOTIFICATIONS_CLAIM_TIMEOUT_SECONDS. The only window for a duplicate
is between the SMTP server's "250 OK" and the row's update (milliseconds); the Message-ID is
derived from the row, so a mail client folds such a duplicate into one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from salesmgmt.company_settings import company_settings_get
from salesmgmt.models import Role, User

from .digest import digest_render, weekly_digest
from .kinds import Kind
from .links import absolute, site_url
from .models import DigestSchedule, EmailSend

UNSUBSCRIBE_SALT = "notifications.unsubscribe"
DIGEST = "digest"
MAX_ATTEMPTS = 8
DIGEST_CATCH_UP = dt.timedelta(hours=24)  # a digest missed (workers down) still goes that day


def unsubscribe_token(*, person_id: int, kind: str) -> str:
    """A signed (not encrypted) token: whoever holds the mail may stop that mail, no more."""
    return signing.dumps({"u": person_id, "k": kind}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_read(token: str) -> tuple[int, str] | None:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("k") not in [*Kind.values, DIGEST]:
        return None
    return int(data["u"]), str(data["k"])


def unsubscribe_url(*, person_id: int, kind: str) -> str:
    token = unsubscribe_token(person_id=person_id, kind=kind)
    return absolute(reverse("notifications:unsubscribe", args=[token]))


# --- one send ---------------------------------------------------------------------------------


def _claim(send_id: int, now: dt.datetime) -> EmailSend | None:
    """Take the row for this worker: pending, or claimed by a worker that must have died."""
    stale = now - dt.timedelta(seconds=settings.NOTIFICATIONS_CLAIM_TIMEOUT_SECONDS)
    claimable = Q(status=EmailSend.Status.PENDING) | Q(
        status=EmailSend.Status.CLAIMED, claimed_at__lt=stale
    )
    taken = EmailSend.objects.filter(claimable, pk=send_id).update(
        status=EmailSend.Status.CLAIMED,
        claimed_at=now,
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    if not taken:
        return None
    return EmailSend.objects.select_related("recipient", "notification").get(pk=send_id)


def _mark(send: EmailSend, status: str, error: str = "") -> None:
    now = timezone.now()
    send.status = status
    send.last_error = error[:2000]
    send.sent_at = now if status == EmailSend.Status.SENT else None
    send.save(update_fields=["status", "last_error", "sent_at", "updated_at"])


def _still_applies(send: EmailSend) -> bool:
    """A call reminder queued before the call was submitted is not sent after it."""
    if send.kind not in (Kind.CALL_DUE, Kind.CALL_OVERDUE) or send.notification is None:
        return True
    from .reminders import call_week, has_called

    week = call_week(now=send.notification.created_at)
    return week is None or not has_called(person_id=send.recipient_id, week=week)


def _message_id(send: EmailSend) -> str:
    digest = hashlib.sha256(f"{send.recipient_id}:{send.dedupe_key}".encode()).hexdigest()[:24]
    return f"<{digest}.{send.pk}@salesmgmt>"


def build_message(send: EmailSend) -> EmailMultiAlternatives:
    """The mail of a send: the notification, or the person's weekly digest."""
    person = send.recipient
    kind = DIGEST if send.kind == DIGEST else send.kind
    unsubscribe = unsubscribe_url(person_id=person.pk, kind=kind)
    context = {"person": person, "site_url": site_url(), "unsubscribe_url": unsubscribe}
    if send.kind == DIGEST:
        return _digest_message(send, context)
    notification = send.notification
    if notification is None:  # email_send skips these before building
        raise ValueError(f"Send {send.pk} has no notification.")
    context["notification"] = notification
    context["link"] = absolute(notification.link)
    return _message(
        send,
        subject=notification.title,
        text=render_to_string("notifications/email_notification.txt", context),
        html=render_to_string("notifications/email_notification.html", context),
        unsubscribe=unsubscribe,
    )


def _digest_message(send: EmailSend, context: dict) -> EmailMultiAlternatives:
    """The digest's content (notifications.digest) with the unsubscribe footer added."""
    if send.week_ending is None:
        raise ValueError(f"Digest send {send.pk} has no week.")
    rendered = digest_render(weekly_digest(person=send.recipient, week_ending=send.week_ending))
    footer_text = render_to_string("notifications/email_footer.txt", context)
    footer_html = render_to_string("notifications/email_footer.html", context)
    html = rendered.html
    html = (
        html.replace("</body>", footer_html + "</body>", 1)
        if "</body>" in html
        else html + footer_html
    )
    return _message(
        send,
        subject=rendered.subject,
        text=rendered.text.rstrip() + "\n\n" + footer_text,
        html=html,
        unsubscribe=context["unsubscribe_url"],
    )


def _message(
    send: EmailSend, *, subject: str, text: str, html: str, unsubscribe: str
) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[send.recipient.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Message-ID": _message_id(send),
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def email_send(*, send_id: int) -> str | None:
    """Claim, send, mark one mail; None when another worker has it or it is done.

    An SMTP failure hands the row back (pending) and re-raises, so the task retries with
    backoff; after MAX_ATTEMPTS it is marked failed.
    """
    send = _claim(send_id, timezone.now())
    if send is None:
        return None
    if not send.recipient.email or not send.recipient.is_active:
        _mark(send, EmailSend.Status.SKIPPED, "No address or an inactive person.")
        return send.status
    if (send.kind != DIGEST and send.notification is None) or not _still_applies(send):
        _mark(send, EmailSend.Status.SKIPPED, "No longer applies.")
        return send.status
    message = build_message(send)
    if settings.NOTIFICATIONS_SEND_DELAY_SECONDS:
        time.sleep(settings.NOTIFICATIONS_SEND_DELAY_SECONDS)
    try:
        get_connection().send_messages([message])
    except Exception as error:
        failed = send.attempts >= MAX_ATTEMPTS
        _mark(send, EmailSend.Status.FAILED if failed else EmailSend.Status.PENDING, str(error))
        raise
    _mark(send, EmailSend.Status.SENT)
    return send.status


def email_sends_sweep(*, now: dt.datetime | None = None) -> list[int]:
    """Sends whose task was lost (broker down) or whose worker died: enqueue them again."""
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=settings.NOTIFICATIONS_CLAIM_TIMEOUT_SECONDS)
    lost = EmailSend.objects.filter(
        Q(status=EmailSend.Status.PENDING, updated_at__lt=now - dt.timedelta(minutes=2))
        | Q(status=EmailSend.Status.CLAIMED, claimed_at__lt=stale)
    )
    ids = list(lost.order_by("pk").values_list("pk", flat=True)[:1000])
    _enqueue(ids)
    return ids


def _enqueue(ids: list[int]) -> None:
    from salesmgmt.task_queue import enqueue

    from . import tasks

    for send_id in ids:
        if not enqueue(tasks.send_email, args=[send_id]):
            return


# --- the weekly digest ------------------------------------------------------------------------


def digest_due_on(
    schedule: DigestSchedule, *, now: dt.datetime, company_zone: str
) -> dt.date | None:
    """The date of the digest due at ``now`` (its weekday and hour in the person's zone have
    come within the catch-up window), or None."""
    zone = ZoneInfo(schedule.time_zone or company_zone)
    local = now.astimezone(zone)
    days_back = (local.weekday() - schedule.weekday) % 7
    day = local.date() - dt.timedelta(days=days_back)
    at = dt.datetime.combine(day, dt.time(schedule.hour), tzinfo=zone)
    if at > local:
        day -= dt.timedelta(days=7)
        at = dt.datetime.combine(day, dt.time(schedule.hour), tzinfo=zone)
    return day if local - at < DIGEST_CATCH_UP else None


def digest_recipients() -> list[User]:
    return list(
        User.objects.filter(is_active=True, is_org_unit=False)
        .exclude(role=Role.INTEGRATOR)
        .exclude(email="")
        .order_by("pk")
    )


@transaction.atomic
def digests_queue_due(*, now: dt.datetime | None = None) -> list[int]:
    """A send row per person whose digest is due now, once per week (their key names the
    week); returns the new rows' ids, enqueued after commit."""
    now = now or timezone.now()
    zone = company_settings_get().time_zone
    people = digest_recipients()
    schedules = {s.person_id: s for s in DigestSchedule.objects.filter(person__in=people)}
    created: list[int] = []
    for person in people:
        schedule = schedules.get(person.pk) or DigestSchedule(person=person)
        if not schedule.is_enabled:
            continue
        day = digest_due_on(schedule, now=now, company_zone=zone)
        if day is None:
            continue
        send, is_new = EmailSend.objects.get_or_create(
            recipient=person,
            dedupe_key=f"{DIGEST}:{day.isoformat()}",
            defaults={"kind": DIGEST, "week_ending": day},
        )
        if is_new:
            created.append(send.pk)
    transaction.on_commit(lambda: _enqueue(created), robust=True)
    return created
