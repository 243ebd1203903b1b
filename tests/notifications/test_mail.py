"""Mail: immediate notifications, the weekly digest, unsubscribe links, the send record that
keeps a re-run or a dead worker from sending twice or losing a mail (in-process; the real
worker and SMTP server are in test_mail_worker.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail as outbox
from django.urls import reverse
from django.utils import timezone

from notifications import mail
from notifications.kinds import Kind
from notifications.models import DigestSchedule, EmailSend, NotificationPreference

from .factories import NotificationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = "https://sales.example.com"


def test_a_pending_milestone_is_mailed_at_once_with_both_parts(deal, manager_a, complete_evidence):
    complete_evidence()

    assert len(outbox.outbox) == 1
    message = outbox.outbox[0]
    assert message.to == [manager_a.email]
    assert "Acme renewal" in message.subject
    link = f"https://sales.example.com/opportunities/{deal.pk}/"
    assert link in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{link}"' in html
    assert message.extra_headers["List-Unsubscribe"].startswith(
        "<https://sales.example.com/notifications/unsubscribe/"
    )
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    send = EmailSend.objects.get()
    assert (send.status, send.attempts) == (EmailSend.Status.SENT, 1)


def test_a_send_runs_once_however_often_it_is_asked(manager_a):
    note = NotificationFactory(recipient=manager_a)
    send = EmailSend.objects.create(
        recipient=manager_a, dedupe_key=note.dedupe_key, kind=note.kind, notification=note
    )
    assert mail.email_send(send_id=send.pk) == EmailSend.Status.SENT
    assert mail.email_send(send_id=send.pk) is None
    assert len(outbox.outbox) == 1


def test_a_claim_left_by_a_dead_worker_is_sent_by_the_sweep_after_the_timeout(manager_a, settings):
    note = NotificationFactory(recipient=manager_a)
    claimed_at = timezone.now() - dt.timedelta(seconds=30)
    send = EmailSend.objects.create(
        recipient=manager_a,
        dedupe_key=note.dedupe_key,
        kind=note.kind,
        notification=note,
        status=EmailSend.Status.CLAIMED,
        claimed_at=claimed_at,
    )
    settings.NOTIFICATIONS_CLAIM_TIMEOUT_SECONDS = 60
    # a live claim is left alone: another worker may be sending it right now
    assert mail.email_send(send_id=send.pk) is None
    assert mail.email_sends_sweep() == []
    settings.NOTIFICATIONS_CLAIM_TIMEOUT_SECONDS = 10
    assert mail.email_sends_sweep() == [send.pk]  # enqueued; eager tasks run it here
    send.refresh_from_db()
    assert send.status == EmailSend.Status.SENT
    assert len(outbox.outbox) == 1


def test_unsubscribe_link_stops_that_kind_without_login(client, rep_a):
    url = mail.unsubscribe_url(person_id=rep_a.pk, kind=Kind.CALL_DUE)
    path = url.removeprefix("https://sales.example.com")
    # opening the link (as mail scanners do) only asks
    response = client.get(path)
    assert response.status_code == 200
    assert b'<button type="submit">Unsubscribe</button>' in response.content
    assert not NotificationPreference.objects.filter(person=rep_a, kind=Kind.CALL_DUE).exists()
    # its button unsubscribes
    assert client.post(path).status_code == 200
    assert NotificationPreference.objects.get(person=rep_a, kind=Kind.CALL_DUE).channel == "in_app"
    # one-click POST from a mail client, no CSRF token, no session
    token = mail.unsubscribe_token(person_id=rep_a.pk, kind="digest")
    posted = client.post(reverse("notifications:unsubscribe", args=[token]))
    assert posted.status_code == 200
    assert DigestSchedule.objects.get(person=rep_a).is_enabled is False
    tampered = reverse("notifications:unsubscribe", args=[token[:-2] + "xx"])
    assert client.get(tampered).status_code == 404


# --- the weekly digest ------------------------------------------------------------------------

FRIDAY_7_TOKYO = dt.datetime(2026, 12, 4, 7, 5, tzinfo=dt.timezone(dt.timedelta(hours=9)))


def test_the_digest_goes_at_the_persons_day_and_hour_in_their_zone_once(manager_a, rep_a):
    DigestSchedule.objects.create(person=manager_a, weekday=4, hour=7, time_zone="Asia/Tokyo")
    DigestSchedule.objects.create(person=rep_a, is_enabled=False)

    assert mail.digests_queue_due(now=FRIDAY_7_TOKYO - dt.timedelta(hours=1)) == []
    [send_id] = mail.digests_queue_due(now=FRIDAY_7_TOKYO)
    assert mail.digests_queue_due(now=FRIDAY_7_TOKYO + dt.timedelta(hours=1)) == []

    send = EmailSend.objects.get(pk=send_id)
    assert (send.recipient, send.dedupe_key) == (manager_a, "digest:2026-12-04")
    # the next week's
    assert len(mail.digests_queue_due(now=FRIDAY_7_TOKYO + dt.timedelta(days=7))) == 1


def test_the_digest_defaults_to_monday_8_in_the_company_zone(rep_a):
    monday_8_utc = dt.datetime(2026, 12, 7, 8, 30, tzinfo=dt.UTC)
    sends = mail.digests_queue_due(now=monday_8_utc)
    assert EmailSend.objects.filter(pk__in=sends, recipient=rep_a).count() == 1


def test_the_digest_mail_is_the_digest_with_an_unsubscribe_footer(
    rep_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        mail.digests_queue_due(now=_monday_8())
    [message] = [m for m in outbox.outbox if m.to == [rep_a.email]]
    assert "https://sales.example.com/my/" in message.body  # the digest's own content
    assert "Stop the weekly digest: https://sales.example.com/notifications/unsubscribe/" in (
        message.body
    )
    html, _ = message.alternatives[0]
    assert "Stop the weekly digest</a>" in html
    token = message.extra_headers["List-Unsubscribe"].rstrip("/>").rsplit("/", 1)[-1]
    assert mail.unsubscribe_read(token) == (rep_a.pk, "digest")


def _monday_8() -> dt.datetime:
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    return dt.datetime.combine(monday, dt.time(8, 10), tzinfo=dt.UTC)
