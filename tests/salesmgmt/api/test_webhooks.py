"""Webhooks: signed deliveries to a real receiver on 127.0.0.1, retries with backoff, the
delivery log, visibility of events, and a failing receiver never breaking a request."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts import services
from salesmgmt import tasks, webhook_destinations, webhooks
from salesmgmt.models import WebhookDelivery, WebhookSubscription
from tests.factories import AccountFactory, complete_closing_milestones
from tests.fixtures.api import TEST_DNS


class Receiver:
    """A local HTTP endpoint answering with the statuses it is given (then 200)."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.location = ""  # sent as Location (with a 3xx status)
        self.received: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                if receiver.location:
                    self.send_header("Location", receiver.location)
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
def receiver(settings):
    # Loopback is refused by default; the local receivers are allowed explicitly.
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    running = Receiver()
    yield running
    running.close()


@pytest.fixture
def deal(process, rep_a):
    return services.opportunity_create(
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
    complete_closing_milestones(deal)
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


def test_events_only_reach_subscribers_who_may_own_webhooks(
    deal, rep_a, manager_a, integrator, receiver, django_capture_on_commit_callbacks
):
    # given a subscription a manager made before only admins and integrators could
    managers = WebhookSubscription.objects.create(
        owner=manager_a, url=receiver.url, secret="x", events=["opportunity.won"]
    )
    integrators = webhooks.subscribe(owner=integrator, url=receiver.url, events=["opportunity.won"])
    with django_capture_on_commit_callbacks(execute=True):
        complete_closing_milestones(deal)
        services.opportunity_close_won(actor=rep_a, opportunity=deal)

    assert list(WebhookDelivery.objects.values_list("subscription", flat=True)) == [integrators.pk]
    assert not managers.deliveries.exists()


def test_a_failing_receiver_never_breaks_the_request(
    deal, rep_a, subscription, receiver, api_client_for, django_capture_on_commit_callbacks
):
    receiver.statuses = [500]
    complete_closing_milestones(deal)
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
    complete_closing_milestones(deal)
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
    deal, rep_a, integrator, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    webhooks.subscribe(
        owner=integrator, url="http://127.0.0.1:9/closed", events=["opportunity.won"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        complete_closing_milestones(deal)
        services.opportunity_close_won(actor=rep_a, opportunity=deal)

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending"
    assert "ConnectionRefusedError" in delivery.last_error


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


# --- who may manage webhooks, and where they may be sent (SSRF) -------------------------------


@pytest.mark.parametrize("persona", ["rep_a", "manager_a", "executive"])
def test_only_admins_and_integrators_may_create_webhooks(personas, persona, api_client_for):
    response = api_client_for(personas[persona]).post(
        "/api/v1/webhooks/",
        {"url": "https://erp.example.com/hooks", "events": ["opportunity.won"]},
        format="json",
    )

    assert response.status_code == 403
    assert "administrators and integrators" in response.json()["detail"]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize("persona", ["admin", "integrator"])
def test_admins_and_integrators_create_webhooks_to_public_hosts(personas, persona, api_client_for):
    response = api_client_for(personas[persona]).post(
        "/api/v1/webhooks/",
        {"url": "https://erp.example.com/hooks", "events": ["opportunity.won"]},
        format="json",
    )

    assert response.status_code == 201, response.content


def test_a_subscription_from_before_the_rule_cannot_be_redelivered_or_changed(
    rep_a, api_client_for
):
    legacy = WebhookSubscription.objects.create(
        owner=rep_a, url="http://127.0.0.1:9/", secret="x", events=["opportunity.won"]
    )
    delivery = WebhookDelivery.objects.create(
        subscription=legacy, event="opportunity.won", payload={}, status="failed"
    )
    client = api_client_for(rep_a)

    again = client.post(f"/api/v1/webhook-deliveries/{delivery.pk}/redeliver/")
    changed = client.patch(f"/api/v1/webhooks/{legacy.pk}/", {"description": "x"}, format="json")
    deleted = client.delete(f"/api/v1/webhooks/{legacy.pk}/")

    assert (again.status_code, changed.status_code, deleted.status_code) == (403, 403, 204)
    assert not WebhookDelivery.objects.exists()


INTERNAL_URLS = [
    "http://127.0.0.1:8000/",
    "http://2130706433:22/",
    "http://10.1.2.3/hook",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://0.0.0.0:8000/",
    "http://224.0.0.1/",
    "http://[::1]:8000/",
    "http://[::ffff:127.0.0.1]:8000/",
    "http://[fd00:ec2::254]/",
    "http://[fe80::1]/",
    "http://localhost:8000/",
    "http://nowhere.invalid/",
]


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_internal_destinations_are_refused_on_save(url, integrator, api_client_for):
    response = api_client_for(integrator).post(
        "/api/v1/webhooks/", {"url": url, "events": ["opportunity.won"]}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"url"}
    assert not WebhookSubscription.objects.exists()


def test_a_name_with_any_internal_address_is_refused(integrator, monkeypatch):
    monkeypatch.setitem(TEST_DNS, "mixed.example.com", ["93.184.215.14", "127.0.0.1"])

    with pytest.raises(ValidationError) as refused:
        webhooks.subscribe(
            owner=integrator, url="http://mixed.example.com/", events=["opportunity.won"]
        )

    assert "url" in refused.value.message_dict


def test_changing_the_url_to_an_internal_one_is_refused(integrator, api_client_for):
    sub = webhooks.subscribe(
        owner=integrator, url="https://erp.example.com/hooks", events=["opportunity.won"]
    )

    response = api_client_for(integrator).patch(
        f"/api/v1/webhooks/{sub.pk}/", {"url": "http://169.254.169.254/"}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"url"}
    sub.refresh_from_db()
    assert sub.url == "https://erp.example.com/hooks"


def _delivery(subscription) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        subscription=subscription, event="opportunity.won", payload={"x": 1}
    )


def test_a_refused_delivery_is_not_sent_and_says_the_same_for_open_and_closed_ports(
    integrator, receiver, settings
):
    # given subscriptions saved while loopback was allowed, then the allow-list is emptied
    open_port = webhooks.subscribe(owner=integrator, url=receiver.url, events=["opportunity.won"])
    closed_port = webhooks.subscribe(
        owner=integrator, url="http://127.0.0.1:9/", events=["opportunity.won"]
    )
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    deliveries = [_delivery(open_port), _delivery(closed_port)]

    outcomes = [webhooks.attempt_delivery(delivery_id=d.pk) for d in deliveries]

    assert [(o.status, o.retry_in) for o in outcomes] == [("failed", None), ("failed", None)]
    logged = WebhookDelivery.objects.filter(pk__in=[d.pk for d in deliveries])
    assert {(d.last_error, d.last_status_code) for d in logged} == {
        ("Destination not allowed.", None)
    }
    assert receiver.received == []


def test_the_address_is_checked_again_at_delivery_dns_rebinding(
    integrator, receiver, monkeypatch, settings
):
    # given a name that resolved to a public address when the subscription was saved
    monkeypatch.setitem(TEST_DNS, "rebind.example.com", ["93.184.215.14"])
    port = receiver.server.server_port
    sub = webhooks.subscribe(
        owner=integrator, url=f"http://rebind.example.com:{port}/", events=["opportunity.won"]
    )
    # when it now points at this machine, where a receiver listens
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    monkeypatch.setitem(TEST_DNS, "rebind.example.com", ["127.0.0.1"])
    delivery = _delivery(sub)

    outcome = webhooks.attempt_delivery(delivery_id=delivery.pk)

    assert outcome.status == "failed"
    delivery.refresh_from_db()
    assert delivery.last_error == "Destination not allowed."
    assert receiver.received == []


def test_the_connection_goes_to_the_address_that_was_checked(integrator, receiver, monkeypatch):
    port = receiver.server.server_port
    monkeypatch.setitem(TEST_DNS, "flip.example.com", ["127.0.0.1"])
    sub = webhooks.subscribe(
        owner=integrator, url=f"http://flip.example.com:{port}/hook", events=["opportunity.won"]
    )
    answers = iter([["127.0.0.1"], ["10.0.0.1"]])
    lookups = []

    def flipping(host, port, *args, **kwargs):
        lookups.append(host)
        addresses = next(answers)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    monkeypatch.setattr(webhook_destinations, "getaddrinfo", flipping)

    outcome = webhooks.attempt_delivery(delivery_id=_delivery(sub).pk)

    # one lookup, checked, then connected to: a second answer is never asked for
    assert (outcome.status, lookups) == ("succeeded", ["flip.example.com"])
    [(headers, _)] = receiver.received
    assert headers["Host"] == f"flip.example.com:{port}"


def test_redirects_are_not_followed(integrator, receiver):
    elsewhere = Receiver()
    try:
        receiver.statuses = [302]
        receiver.location = f"http://localhost:{elsewhere.server.server_port}/internal"
        sub = webhooks.subscribe(owner=integrator, url=receiver.url, events=["opportunity.won"])

        outcome = webhooks.attempt_delivery(delivery_id=_delivery(sub).pk)

        assert outcome.status == "failed"
        assert WebhookDelivery.objects.get().last_error.startswith("HTTP 302")
        assert len(receiver.received) == 1
        assert elsewhere.received == []
    finally:
        elsewhere.close()


def test_an_allow_listed_host_name_is_delivered_to(integrator, receiver, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    settings.WEBHOOK_ALLOWED_HOSTS = ["localhost"]
    url = f"http://localhost:{receiver.server.server_port}/hook"
    sub = webhooks.subscribe(owner=integrator, url=url, events=["opportunity.won"])

    outcome = webhooks.attempt_delivery(delivery_id=_delivery(sub).pk)

    assert outcome.status == "succeeded"
    assert len(receiver.received) == 1


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("8.8.8.8", False),
        ("2606:4700:4700::1111", False),
        ("127.0.0.1", True),
        ("10.0.0.1", True),
        ("100.100.100.200", True),
        ("169.254.169.254", True),
        ("198.18.0.1", True),
        ("239.255.255.250", True),
        ("255.255.255.255", True),
        ("::", True),
        ("::1", True),
        ("::ffff:10.0.0.1", True),
        ("64:ff9b::a00:1", True),
        ("2002:7f00:1::", True),
        ("fc00::1", True),
        ("fe80::1", True),
        ("ff02::1", True),
    ],
)
def test_address_policy(address, refused):
    assert webhook_destinations.is_refused_address(ipaddress.ip_address(address)) is refused


def test_pausing_needs_no_dns_answer_but_a_new_url_is_checked(integrator, monkeypatch):
    monkeypatch.setitem(TEST_DNS, "gone.example.com", ["93.184.215.14"])
    sub = webhooks.subscribe(
        owner=integrator, url="https://gone.example.com/", events=["opportunity.won"]
    )
    monkeypatch.delitem(TEST_DNS, "gone.example.com")

    webhooks.update_subscription(subscription=sub, is_active=False)
    with pytest.raises(ValidationError):
        webhooks.update_subscription(subscription=sub, url="https://gone.example.com/")
