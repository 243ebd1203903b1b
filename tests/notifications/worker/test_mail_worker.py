"""Issue 18's worker test: with a real Celery worker and a real SMTP server on loopback, the
manager's weekly digest arrives once, also when the worker is killed in the middle of the
send; its links open the right record for the manager and 404 for anyone else; a reminder
for a missing call arrives before the deadline and stops once the call is submitted.

Real processes over Redis on PostgreSQL (skipped without them, failures on CI). The worker
pauses between claiming a mail and handing it to SMTP (NOTIFICATIONS_SEND_DELAY_SECONDS,
test-only) so the kill lands mid-send; the claim timeout is lowered so the sweep hands the
mail to the next worker within seconds.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import time
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import MilestoneCompletion
from forecasting.services.calls import call_submit
from notifications import tasks
from notifications.models import DigestSchedule, EmailSend
from salesmgmt.celery import app as celery_app
from salesmgmt.models import User
from tests.coaching.factories import current_quarter
from tests.factories import MilestoneCompletionFactory, OpportunityFactory, build_process
from tests.fixtures.celery_worker import delete_queue, require_worker_services, start_celery_worker
from tests.fixtures.mail import FROM_EMAIL, SITE_URL

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def worker_env(smtp_server, **extra: str) -> dict[str, str]:
    return {
        "EMAIL_URL": smtp_server.url,
        "SITE_URL": SITE_URL,
        "DEFAULT_FROM_EMAIL": FROM_EMAIL,
        **extra,
    }


def wait_until(condition, *, what: str, worker, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"No {what} after {timeout}s. Worker log:\n{worker.tail()}")
        time.sleep(0.1)


def forget_unacked(broker, queue: str) -> None:
    """Drop the killed task's unacked copy (Redis would restore it to our queue in an hour)."""
    for tag, raw in broker.hgetall("unacked").items():
        if queue in raw.decode(errors="replace"):
            broker.hdel("unacked", tag)
            broker.zrem("unacked_index", tag)


def links_in(text: str) -> list[str]:
    return re.findall(r"https://sales\.example\.com(/[^\s\"<>]*)", text)


@pytest.fixture
def team(rep_a, manager_a, manager_b, executive):
    """A milestone waiting for manager_a's verification; only manager_a's digest is due now
    (this hour, UTC); everyone else's is switched off."""
    process = build_process(name="Verified", requires_verification=True)
    deal = OpportunityFactory(owner=rep_a, process=process, name="Globex renewal")
    MilestoneCompletionFactory(
        opportunity=deal,
        milestone=process.stages.order_by("order").first().milestones.get(evidence_required=True),
        verification_state=MilestoneCompletion.Verification.PENDING,
    )
    now = timezone.now()
    for person in User.objects.exclude(pk=manager_a.pk):
        DigestSchedule.objects.create(person=person, is_enabled=False)
    DigestSchedule.objects.create(
        person=manager_a, weekday=now.weekday(), hour=now.hour, time_zone="UTC"
    )
    return {"deal": deal}


def test_the_managers_digest_arrives_once_even_when_the_worker_dies_mid_send(
    smtp_server, team, manager_a, manager_b, client
):
    broker = require_worker_services()
    queue = f"test-digest-{uuid.uuid4().hex[:10]}"
    was_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    first = second = None
    try:
        # a worker claims the digest and is killed with -9 before it reaches SMTP
        first = start_celery_worker(
            queue, worker_env(smtp_server, NOTIFICATIONS_SEND_DELAY_SECONDS="30")
        )
        tasks.send_due_digests.apply_async(queue=queue)
        claimed = EmailSend.objects.filter(recipient=manager_a, status=EmailSend.Status.CLAIMED)
        wait_until(claimed.exists, what="a claimed digest", worker=first)
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=10)
        assert smtp_server.received == []

        # the next worker's sweep finds the abandoned claim and sends it; more runs send nothing
        second = start_celery_worker(
            queue, worker_env(smtp_server, NOTIFICATIONS_CLAIM_TIMEOUT_SECONDS="1")
        )
        time.sleep(1.5)
        tasks.sweep_email_sends.apply_async(queue=queue)
        smtp_server.wait_for(1)
        for task in (tasks.send_due_digests, tasks.sweep_email_sends, tasks.send_due_digests):
            task.apply_async(queue=queue)
        time.sleep(3)
    finally:
        celery_app.conf.task_always_eager = was_eager
        for worker in (first, second):
            if worker is not None:
                worker.stop()
        forget_unacked(broker, queue)
        delete_queue(broker, queue)

    assert len(smtp_server.received) == 1
    received = smtp_server.received[0]
    assert received.recipients == [manager_a.email]
    message = received.message
    assert message["List-Unsubscribe"].strip().startswith(f"<{SITE_URL}/notifications/unsubscribe/")
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Globex renewal" in text
    assert "Globex renewal" in html
    deal_path = reverse("accounts:opportunity_detail", args=[team["deal"].pk])
    assert deal_path in links_in(text)
    send = EmailSend.objects.get(recipient=manager_a)
    assert (send.status, send.attempts) == (EmailSend.Status.SENT, 2)

    # the links open the record for the manager, and are a 404 for anyone else
    client.force_login(manager_a)
    assert client.get(deal_path).status_code == 200
    client.force_login(manager_b)
    assert client.get(deal_path).status_code == 404


def test_a_missing_call_reminder_comes_before_the_deadline_and_stops_once_called(
    smtp_server, rep_a, manager_a, client
):
    # the call is due at the end of this week (Sunday 23:00 UTC); reminders open 170 h before
    now = timezone.now()
    monday = now.date() - dt.timedelta(days=now.weekday())
    deadline = dt.datetime.combine(monday + dt.timedelta(days=6), dt.time(23), tzinfo=dt.UTC)
    # The first reminders are raised as of now, or an hour before the deadline when the test
    # runs in the week's last hour (never skipped: a call this week counts, whenever made).
    first = min(now, deadline - dt.timedelta(hours=1))
    period = current_quarter()
    for person in User.objects.all():
        DigestSchedule.objects.create(person=person, is_enabled=False)
    settings_env = {
        "NOTIFICATIONS_CALL_DEADLINE_WEEKDAY": "6",
        "NOTIFICATIONS_CALL_DEADLINE_HOUR": "23",
        "NOTIFICATIONS_CALL_DUE_HOURS_BEFORE": "170",
    }
    broker = require_worker_services()
    queue = f"test-remind-{uuid.uuid4().hex[:10]}"
    was_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    worker = None
    try:
        worker = start_celery_worker(queue, worker_env(smtp_server, **settings_env))
        # before the deadline: the rep (and the manager, who also owes a call) are reminded
        tasks.raise_reminders.apply_async(kwargs={"at": first.isoformat()}, queue=queue)
        smtp_server.wait_for(2)
        reminded = {mail.recipients[0]: mail.message for mail in smtp_server.received}
        assert set(reminded) == {rep_a.email, manager_a.email}
        assert "is due by Sunday 23:00" in reminded[rep_a.email]["Subject"]

        # the rep calls; after the deadline only the manager is told it is overdue (and the
        # executive gets the roll-up of who has not called): nothing more for the rep
        call_submit(actor=rep_a, period=period, commit_amount=10, best_case_amount=20)
        late = (deadline + dt.timedelta(minutes=30)).isoformat()  # still this week
        tasks.raise_reminders.apply_async(kwargs={"at": late}, queue=queue)
        # the manager's overdue reminder and the executive's roll-up
        smtp_server.wait_for(4)
        time.sleep(2)
    finally:
        celery_app.conf.task_always_eager = was_eager
        if worker is not None:
            worker.stop()
        delete_queue(broker, queue)

    to_rep = [m for m in smtp_server.received if m.recipients == [rep_a.email]]
    assert len(to_rep) == 1
    overdue = [m for m in smtp_server.received if "overdue" in m.message["Subject"]]
    assert [m.recipients for m in overdue] == [[manager_a.email]]
    # the reminder's link opens the forecast page for the rep
    text = to_rep[0].message.get_body(preferencelist=("plain",)).get_content()
    [path] = [p for p in links_in(text) if p.startswith("/forecast/")]
    client.force_login(rep_a)
    assert client.get(path).status_code == 200
