"""Webhooks: subscriptions, events emitted after commit, signed delivery with retries.

Flow: a service calls ``emit(event, subject=record)`` inside its transaction. After commit,
``_fan_out`` writes one ``WebhookDelivery`` per active subscription whose owner may see the
record (the one visibility policy applies to webhooks too) and enqueues
``salesmgmt.tasks.deliver_webhook`` for each. The task calls ``attempt_delivery`` once and
retries with exponential backoff on connection errors and 5xx answers, up to
``WEBHOOK_MAX_ATTEMPTS``. Nothing here runs inside the user's request transaction, and the
on-commit hook is ``robust``, so a failing receiver (or broker) never breaks a request.

Who: only admins and integrators own subscriptions (create, change, redeliver); a
subscription whose owner loses that role stops receiving events and can only be deleted.
Where: ``salesmgmt.webhook_destinations`` refuses internal addresses unless allow-listed.

Receivers verify ``X-Salesmgmt-Signature: sha256=<hex>``, the HMAC-SHA256 of the raw body with
the subscription's secret, and de-duplicate on the body's ``id`` (one id per event).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from . import webhook_destinations
from .errors import PermissionDeniedError
from .models import Role, User, WebhookDelivery, WebhookEvent, WebhookSubscription
from .task_queue import enqueue

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Salesmgmt-Signature"
EVENT_HEADER = "X-Salesmgmt-Event"
DELIVERY_HEADER = "X-Salesmgmt-Delivery"
SUBSCRIPTION_FIELDS = {"url", "events", "is_active", "description", "secret"}
# How each kind of record appears in a payload: the same representation as the API. Model
# label → dotted path of its serializer, filled by the apps that emit events
# (``register_payload_serializer`` in their AppConfig.ready): the core imports no domain app.
PAYLOAD_SERIALIZERS: dict[str, str] = {}
# Who else hears every event after commit (the in-app notifications): dotted paths of
# ``listener(event, label, pk, data)``, filled by the apps in their AppConfig.ready. The same
# emit feeds webhooks and listeners, so both stay in step.
EVENT_LISTENERS: list[str] = []
# 4xx answers that mean "try again later" rather than "never send this".
RETRYABLE_CLIENT_ERRORS = {408, 409, 425, 429}


def sign(secret: str, body: bytes) -> str:
    """The signature header value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return hmac.compare_digest(sign(secret, body), header or "")


# --- subscriptions ------------------------------------------------------------------------

# Webhooks make the server send requests on a user's behalf: a technical, trusted job.
WEBHOOK_OWNER_ROLES = (Role.ADMIN, Role.INTEGRATOR)
NOT_ALLOWED_MESSAGE = "Only administrators and integrators may manage webhooks."


def may_own_webhooks(user: User) -> bool:
    """The one rule for who may create, change and redeliver webhooks."""
    return user.is_active and (user.is_superuser or user.role in WEBHOOK_OWNER_ROLES)


def ensure_may_own_webhooks(user: User) -> None:
    if not may_own_webhooks(user):
        raise PermissionDeniedError(NOT_ALLOWED_MESSAGE)


def _validate_subscription(subscription: WebhookSubscription, *, url_given: bool = True) -> None:
    events = subscription.events
    if not isinstance(events, list) or not events:
        raise ValidationError({"events": "Choose at least one event."})
    unknown = sorted({str(e) for e in events} - set(WebhookEvent.values))
    if unknown:
        raise ValidationError({"events": f"Unknown events: {', '.join(unknown)}."})
    subscription.events = sorted(set(events))
    if urlsplit(subscription.url).scheme not in ("http", "https"):
        raise ValidationError({"url": "Use an http or https URL."})
    subscription.full_clean()
    # Pausing or renaming needs no DNS answer; every delivery checks the address anyway.
    if url_given:
        webhook_destinations.validate_url(subscription.url)


@transaction.atomic
def subscribe(
    *,
    owner: User,
    url: str,
    events: list[str],
    secret: str = "",
    description: str = "",
    is_active: bool = True,
) -> WebhookSubscription:
    """Start sending ``events`` the owner may see to ``url``; a secret is generated if empty."""
    ensure_may_own_webhooks(owner)
    subscription = WebhookSubscription(
        owner=owner,
        url=url,
        events=events,
        secret=secret or secrets.token_urlsafe(32),
        description=description,
        is_active=is_active,
    )
    _validate_subscription(subscription)
    subscription.save()
    return subscription


@transaction.atomic
def update_subscription(
    *, subscription: WebhookSubscription, **changes: object
) -> WebhookSubscription:
    ensure_may_own_webhooks(subscription.owner)
    unknown = set(changes) - SUBSCRIPTION_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    url_given = "url" in changes
    for name, value in changes.items():
        setattr(subscription, name, value)
    _validate_subscription(subscription, url_given=url_given)
    subscription.save()
    return subscription


@transaction.atomic
def delete_subscription(*, subscription: WebhookSubscription) -> None:
    """Remove a subscription and its delivery log."""
    subscription.delete()


# --- emitting ----------------------------------------------------------------------------


def emit(event: str, *, subject: Model, data: dict | None = None) -> None:
    """Queue ``event`` about ``subject`` for its subscribers once the transaction commits."""
    if event not in WebhookEvent.values:
        raise ValueError(f"Unknown webhook event {event!r}")
    label, pk, extra = subject._meta.label_lower, subject.pk, data or {}

    # A named function, not a partial: Django's robust on_commit logs the callback's name.
    def fan_out_after_commit() -> None:
        _fan_out(event, label, pk, extra)

    # Separate callbacks: a failing listener cannot stop the webhooks, nor the other way round.
    def tell_listeners_after_commit() -> None:
        _tell_listeners(event, label, pk, extra)

    transaction.on_commit(fan_out_after_commit, robust=True)
    if EVENT_LISTENERS:
        transaction.on_commit(tell_listeners_after_commit, robust=True)


def register_listener(*, listener_path: str) -> None:
    """Call ``listener_path(event, label, pk, data)`` after the commit of every emitted event."""
    if listener_path not in EVENT_LISTENERS:
        EVENT_LISTENERS.append(listener_path)


def _tell_listeners(event: str, label: str, pk: int, data: dict) -> None:
    for path in EVENT_LISTENERS:
        try:
            import_string(path)(event, label, pk, data)
        except Exception:
            # One listener's failure must not keep the event from the others.
            logger.exception("Event listener %s failed on %s %s:%s", path, event, label, pk)


def register_payload_serializer(*, model_label: str, serializer_path: str) -> None:
    """Payloads about ``model_label`` records ("app.model") use this serializer; a record
    without one is sent as its id only. The path is imported at the first delivery."""
    PAYLOAD_SERIALIZERS[model_label.lower()] = serializer_path


def _subject_payload(label: str, subject: Model) -> dict:
    path = PAYLOAD_SERIALIZERS.get(label)
    if path is None:
        return {"id": subject.pk}
    return dict(import_string(path)(subject, context={}).data)


def _may_see(viewer: User, model: type[Model], pk: int) -> bool:
    if viewer.sees_everyone:
        return True
    visible_to = getattr(model._default_manager, "visible_to", None)  # the models' one: objects
    return visible_to is not None and visible_to(viewer).filter(pk=pk).exists()


def _fan_out(event: str, label: str, pk: int, data: dict) -> list[int]:
    """Write a delivery per entitled subscriber and enqueue it; returns the delivery ids."""
    # Events are filtered in Python: JSON "contains" lookups are not portable to SQLite, and
    # subscriptions are few.
    subscriptions = [
        s
        for s in WebhookSubscription.objects.filter(is_active=True, owner__is_active=True)
        .filter(Q(owner__role__in=WEBHOOK_OWNER_ROLES) | Q(owner__is_superuser=True))
        .select_related("owner")
        .order_by("id")
        if event in s.events
    ]
    if not subscriptions:
        return []
    model = apps.get_model(label)
    subject = model.objects.filter(pk=pk).first()
    if subject is None:
        return []
    now = timezone.now()
    event_id = str(uuid.uuid4())
    body = {
        "id": event_id,
        "event": event,
        "created_at": now.isoformat(),
        "data": {**_subject_payload(label, subject), **data},
    }
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                subscription=subscription,
                event=event,
                event_id=event_id,
                payload=body,
                next_attempt_at=now,
            )
            for subscription in subscriptions
            if _may_see(subscription.owner, model, pk)
        ]
    )
    ids = [delivery.pk for delivery in deliveries]
    _enqueue_deliveries(ids)
    return ids


def _enqueue_deliveries(ids: list[int]) -> int:
    """Send each delivery's task; stop at the first broker failure (one short wait, not N).

    What is not sent stays pending in the table for ``enqueue_overdue_deliveries``.
    """
    from . import tasks

    for sent, delivery_id in enumerate(ids):
        if not enqueue(tasks.deliver_webhook, args=[delivery_id]):
            return sent
    return len(ids)


# --- delivering --------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryOutcome:
    status: str
    retry_in: int | None = None


def backoff_seconds(attempts: int) -> int:
    """Exponential: base, 2 * base, 4 * base... after the 1st, 2nd, 3rd failed attempt, capped."""
    base = settings.WEBHOOK_BACKOFF_BASE_SECONDS
    return min(base * 2 ** max(attempts - 1, 0), settings.WEBHOOK_BACKOFF_MAX_SECONDS)


def attempt_delivery(*, delivery_id: int) -> DeliveryOutcome | None:
    """Send a pending delivery once and log the result; None if there is nothing to send.

    Idempotent: a delivery that already succeeded (or failed for good) is never resent.
    """
    delivery = (
        WebhookDelivery.objects.select_related("subscription__owner").filter(pk=delivery_id).first()
    )
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return None
    subscription = delivery.subscription
    now = timezone.now()
    delivery.attempts += 1
    if not subscription.is_active:
        status_code, error = None, "The subscription is paused."
        retryable = False
    elif not may_own_webhooks(subscription.owner):
        status_code, error = None, NOT_ALLOWED_MESSAGE
        retryable = False
    else:
        body = json.dumps(delivery.payload, cls=DjangoJSONEncoder, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "salesmgmt-webhooks/1",
            EVENT_HEADER: delivery.event,
            DELIVERY_HEADER: str(delivery.event_id),
            SIGNATURE_HEADER: sign(subscription.secret, body),
        }
        status_code, error, refused = webhook_destinations.post(subscription.url, body, headers)
        retryable = not refused and (
            status_code is None or status_code >= 500 or (status_code in RETRYABLE_CLIENT_ERRORS)
        )
    delivery.last_status_code = status_code
    retry_in = None
    if status_code is not None and 200 <= status_code < 300:
        delivery.status = WebhookDelivery.Status.SUCCEEDED
        delivery.delivered_at = now
        delivery.last_error = ""
        delivery.next_attempt_at = None
    elif retryable and delivery.attempts < settings.WEBHOOK_MAX_ATTEMPTS:
        retry_in = backoff_seconds(delivery.attempts)
        delivery.last_error = error or f"HTTP {status_code}"
        delivery.next_attempt_at = now + dt.timedelta(seconds=retry_in)
    else:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.last_error = error or f"HTTP {status_code}"
        delivery.next_attempt_at = None
    delivery.save()
    if delivery.status != WebhookDelivery.Status.SUCCEEDED:
        logger.warning(
            "Webhook delivery %s attempt %s: %s",
            delivery.pk,
            delivery.attempts,
            delivery.last_error,
        )
    return DeliveryOutcome(status=delivery.status, retry_in=retry_in)


def enqueue_overdue_deliveries(*, grace: dt.timedelta | None = None) -> int:
    """Re-enqueue pending deliveries whose scheduled retry is long overdue (a lost task)."""
    cutoff = timezone.now() - (grace or dt.timedelta(minutes=10))
    ids = list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=cutoff
        ).values_list("pk", flat=True)[:1000]
    )
    return _enqueue_deliveries(ids)


@transaction.atomic
def redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a logged event again as a new delivery (same event id, so receivers can dedupe)."""
    ensure_may_own_webhooks(delivery.subscription.owner)
    copy = WebhookDelivery.objects.create(
        subscription=delivery.subscription,
        event=delivery.event,
        event_id=delivery.event_id,
        payload=delivery.payload,
        next_attempt_at=timezone.now(),
    )

    def enqueue_after_commit() -> None:
        _enqueue_deliveries([copy.pk])

    transaction.on_commit(enqueue_after_commit, robust=True)
    return copy
