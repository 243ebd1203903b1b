"""Webhooks: signed deliveries to a real receiver on 127.0.0.1, retries with backoff, the
delivery log, visibility of events, and a failing receiver never breaking a request."""

from __future__ import annotations

import datetime as dt
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from accounts import services
from salesmgmt import tasks, webhooks
from salesmgmt.models import WebhookDelivery
from tests.factories import AccountFactory


class Receiver:
    """A local HTTP endpoint answering with the statuses it is given (then 200)."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.received: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.close()


@pytest.fixture
def deal(process, rep_a):
    return services.create_opportunity(
        actor=rep_a,
        account=AccountFactory(owner=rep_a),
        name="Acme",
        amount=Decimal(100),
        expected_close_on=dt.date(2030, 1, 1),
    )


@pytest.fixture
def subscription(integrator, receiver):
    return webhooks.subscribe(
        owner=integrator,
        url=receiver.url,
        secret="s3cret",
        events=[
            "opportunity.created",
            "opportunity.stage_changed",
            "opportunity.won",
            "opportunity.lost",
        ],
    )


def test_won_is_delivered_signed_with_hmac_over_the_body(
    deal, rep_a, subscription, receiver, api_client_for, django_capture_on_commit_callbacks
):
    client = api_client_for(rep_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/opportunities/{deal.pk}/win/", {})

    assert response.status_code == 200
    [(headers, body)] = receiver.received
    assert webhooks.verify_signature("s3cret", body, headers["X-Salesmgmt-Signature"])
    assert not webhooks.verify_signature("wrong", body, headers["X-Salesmgmt-Signature"])
    payload = json.loads(body)
    assert payload["event"] == headers["X-Salesmgmt-Event"] == "opportunity.won"
    assert payload["data"]["id"] == deal.pk
    assert payload["data"]["status"] == "won"
    assert payload["data"]["amount"] == "100.00"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    assert str(delivery.event_id) == payload["id"] == headers["X-Salesmgmt-Delivery"]


def test_created_stage_changed_and_lost_events(
    process, rep_a, subscription, receiver, api_client_for, django_capture_on_commit_callbacks
):
    client = api_client_for(rep_a)
    account = AccountFactory(owner=rep_a)
    qualify = process.stages.get(name="Qualify").milestones.order_by("order")
    with django_capture_on_commit_callbacks(execute=True):
        deal_id = client.post(
            "/api/v1/opportunities/",
            {
                "name": "New",
                "account": account.pk,
                "amount": "5",
                "expected_close_on": "2030-01-01",
            },
        ).json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        for milestone in qualify:
            client.post(
                f"/api/v1/opportunities/{deal_id}/complete/",
                {"milestone": milestone.pk, "evidence": "memo"},
            )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/api/v1/opportunities/{deal_id}/lose/", {"lost_reason": "Price"})

    events = [json.loads(body) for _, body in receiver.received]
    assert [e["event"] for e in events] == [
        "opportunity.created",
        "opportunity.stage_changed",
        "opportunity.lost",
    ]
    changed = events[1]["data"]
    assert changed["previous_stage_id"] == process.stages.get(name="Qualify").pk
    assert changed["stage"]["name"] == "Discover"


def test_events_only_reach_subscribers_who_may_see_the_record(
    deal, rep_a, rep_b, manager_a, receiver, django_capture_on_commit_callbacks
):
    theirs = webhooks.subscribe(owner=rep_b, url=receiver.url, events=["opportunity.won"])
    managers = webhooks.subscribe(owner=manager_a, url=receiver.url, events=["opportunity.won"])
    with django_capture_on_commit_callbacks(execute=True):
        services.close_won(actor=rep_a, opportunity=deal)

    assert list(WebhookDelivery.objects.values_list("subscription", flat=True)) == [managers.pk]
    assert not theirs.deliveries.exists()


def test_a_failing_receiver_never_breaks_the_request(
    deal, rep_a, subscription, receiver, api_client_for, django_capture_on_commit_callbacks
):
    receiver.statuses = [500]
    client = api_client_for(rep_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/opportunities/{deal.pk}/win/", {})

    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert "500" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now() + dt.timedelta(seconds=20)


def test_a_broken_queue_never_breaks_the_request(
    deal, rep_a, subscription, api_client_for, django_capture_on_commit_callbacks
):
    client = api_client_for(rep_a)
    with (
        mock.patch.object(tasks.deliver_webhook, "delay", side_effect=ConnectionError("down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(f"/api/v1/opportunities/{deal.pk}/win/", {})

    assert response.status_code == 200
    # the delivery is logged and waits for the overdue sweep
    assert WebhookDelivery.objects.get().status == "pending"


def test_unreachable_receiver_is_retried_later(
    deal, rep_a, integrator, django_capture_on_commit_callbacks
):
    webhooks.subscribe(
        owner=integrator, url="http://127.0.0.1:9/closed", events=["opportunity.won"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.close_won(actor=rep_a, opportunity=deal)

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending"
    assert "URLError" in delivery.last_error


def test_retries_back_off_exponentially_and_stop(deal, subscription, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 4
    receiver.statuses = [503] * 10
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event="opportunity.won", payload={"x": 1}
    )

    outcomes = [webhooks.attempt_delivery(delivery_id=delivery.pk) for _ in range(5)]

    assert [o.retry_in for o in outcomes[:4]] == [30, 60, 120, None]
    assert outcomes[3].status == "failed"
    assert outcomes[4] is None  # nothing more to send
    assert len(receiver.received) == 4
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 4)


def test_backoff_is_capped(settings):
    settings.WEBHOOK_BACKOFF_MAX_SECONDS = 100
    assert [webhooks.backoff_seconds(n) for n in (1, 2, 3, 4)] == [30, 60, 100, 100]


def test_a_rejecting_receiver_is_not_retried(subscription, receiver):
    receiver.statuses = [410]
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event="opportunity.won", payload={}
    )

    outcome = webhooks.attempt_delivery(delivery_id=delivery.pk)

    assert (outcome.status, outcome.retry_in) == ("failed", None)


def test_worker_task_schedules_the_retry_with_the_backoff(subscription, receiver):
    receiver.statuses = [502]
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event="opportunity.won", payload={}
    )

    with (
        mock.patch.object(tasks.deliver_webhook, "retry", side_effect=Retry()) as retry,
        pytest.raises(Retry),
    ):
        tasks.deliver_webhook.run(delivery.pk)  # as a worker runs it (not eager)

    retry.assert_called_once_with(countdown=30)


def test_a_succeeded_delivery_is_never_resent(subscription, receiver):
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event="opportunity.won", payload={}
    )

    assert tasks.deliver_webhook.delay(delivery.pk).get() == "succeeded"
    assert tasks.deliver_webhook.delay(delivery.pk).get() is None
    assert len(receiver.received) == 1


def test_hosts_outside_the_allow_list_are_never_contacted(integrator, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["hooks.example.com"]
    sub = webhooks.subscribe(
        owner=integrator, url="http://127.0.0.1:9/", events=["opportunity.won"]
    )
    delivery = WebhookDelivery.objects.create(subscription=sub, event="opportunity.won", payload={})

    outcome = webhooks.attempt_delivery(delivery_id=delivery.pk)

    assert outcome.status == "failed"
    delivery.refresh_from_db()
    assert "not allowed" in delivery.last_error


def test_overdue_deliveries_are_enqueued_again(subscription, receiver):
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        event="opportunity.won",
        payload={},
        next_attempt_at=timezone.now() - dt.timedelta(hours=1),
    )

    assert tasks.enqueue_overdue_webhooks.delay().get() == 1
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"


# --- the API: subscriptions and the delivery log ----------------------------------------------


def test_subscription_api_shows_the_secret_once_and_validates(integrator, rep_a, api_client_for):
    client = api_client_for(integrator)

    created = client.post(
        "/api/v1/webhooks/",
        {
            "url": "https://erp.example.com/hooks",
            "events": ["opportunity.won"],
        },
        format="json",
    )
    shown = client.get(f"/api/v1/webhooks/{created.json()['id']}/")
    bad = client.post("/api/v1/webhooks/", {"url": "ftp://x", "events": ["nope"]}, format="json")
    others = api_client_for(rep_a).get(f"/api/v1/webhooks/{created.json()['id']}/")

    assert created.status_code == 201
    assert len(created.json()["signing_secret"]) > 20
    assert "signing_secret" not in shown.json()
    assert "secret" not in shown.json()
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"url", "events"}
    assert others.status_code == 404


def test_delivery_log_and_redeliver(
    subscription, receiver, integrator, rep_a, api_client_for, django_capture_on_commit_callbacks
):
    receiver.statuses = [500]
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event="opportunity.won", payload={"id": "e1"}
    )
    webhooks.attempt_delivery(delivery_id=delivery.pk)
    client = api_client_for(integrator)

    log = client.get("/api/v1/webhook-deliveries/?status=pending").json()["results"]
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(f"/api/v1/webhook-deliveries/{delivery.pk}/redeliver/")

    assert [(d["id"], d["attempts"], d["last_status_code"]) for d in log] == [(delivery.pk, 1, 500)]
    assert again.status_code == 201
    assert WebhookDelivery.objects.get(pk=again.json()["id"]).status == "succeeded"
    assert api_client_for(rep_a).get("/api/v1/webhook-deliveries/").json()["results"] == []
