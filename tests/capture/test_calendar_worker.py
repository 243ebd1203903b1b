"""A subscribed calendar fetched by a real worker from a local HTTP server (allow-listed
loopback, like webhooks to an internal receiver): recurring meetings, then a moved and a
cancelled occurrence, then the same feed again."""

from __future__ import annotations

import http.server
import threading
import uuid

import pytest

from accounts.models import Activity
from capture.models import CalendarSubscription, CapturedItem
from capture.tasks import capture_calendar_fetch
from tests.capture.scenario import compliance_of, customer_of, flags_of, weekly_feed
from tests.fixtures.celery_worker import delete_queue, require_worker_services, start_celery_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


class Feed:
    body = b""
    requests = 0


@pytest.fixture
def feed_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            Feed.requests += 1
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Content-Length", str(len(Feed.body)))
            self.end_headers()
            self.wfile.write(Feed.body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def loopback_worker(django_db_setup):
    """A worker of its own whose outbound policy allows loopback (as an admin would allow an
    internal calendar server with WEBHOOK_ALLOWED_NETWORKS)."""
    from salesmgmt.celery import app

    broker = require_worker_services()
    queue = f"test-cal-{uuid.uuid4().hex[:10]}"
    worker = start_celery_worker(queue, {"WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8"})
    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield worker
    app.conf.task_always_eager = was_eager
    worker.stop()
    delete_queue(broker, queue)


def fetch_and_wait(worker, subscription, *, done) -> None:
    import time

    before = Feed.requests
    capture_calendar_fetch.apply_async(args=[subscription.pk], queue=worker.queue)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        subscription.refresh_from_db()
        if Feed.requests > before and done(subscription):
            return
        if worker.process.poll() is not None:
            pytest.fail(f"worker died:\n{worker.tail()}")
        time.sleep(0.2)
    rows = list(CapturedItem.objects.values_list("subject", "occurred_at", "status"))
    pytest.fail(f"fetch not done ({subscription.last_error!r}, {rows}):\n{worker.tail(8)}")


def test_worker_reads_a_recurring_feed_with_a_moved_and_a_cancelled_occurrence(
    feed_server, loopback_worker, rep_a
):
    # neither deal has had activity for 30 days or more
    customer = customer_of(rep_a, last_active_days=30)
    assert "no_activity" in flags_of(customer.older_deal)
    assert compliance_of(rep_a).failing_recent_activity == 2
    url = f"http://127.0.0.1:{feed_server.server_port}/rep.ics"
    subscription = CalendarSubscription.objects.create(owner=rep_a, url=url, name="Work")

    def meetings():
        return Activity.objects.filter(source=Activity.Source.CALENDAR).order_by("occurred_at")

    # four weekly customer meetings (plus an internal and a personal event, not kept)
    Feed.body = weekly_feed(rep_a, moved_and_cancelled=False)
    fetch_and_wait(loopback_worker, subscription, done=lambda s: meetings().count() == 4)
    assert {m.opportunity_id for m in meetings()} == {customer.older_deal.pk}
    second = meetings()[1]
    # a meeting held in the last two weeks (a week ago) is two-way contact and recent activity
    assert "no_activity" not in flags_of(customer.older_deal)
    assert "no_activity" in flags_of(customer.tagged_deal)
    assert compliance_of(rep_a).failing_recent_activity == 1

    # the second is moved a day later, the third cancelled
    Feed.body = weekly_feed(rep_a, moved_and_cancelled=True)
    fetch_and_wait(loopback_worker, subscription, done=lambda s: meetings().count() == 3)
    fetched_at = subscription.last_fetched_at
    moved = Activity.objects.get(pk=second.pk)
    assert moved.occurred_at > second.occurred_at
    assert subscription.last_error == ""
    # the week-ago meeting is cancelled; the moved one (13 days ago) still counts
    assert "no_activity" not in flags_of(customer.older_deal)
    assert compliance_of(rep_a).failing_recent_activity == 1

    # the same feed again: nothing new, nothing removed
    fetch_and_wait(loopback_worker, subscription, done=lambda s: s.last_fetched_at > fetched_at)
    assert meetings().count() == 3
    assert CapturedItem.objects.filter(subscription=subscription).count() == 3
    assert Activity.objects.get(pk=second.pk).occurred_at == moved.occurred_at
