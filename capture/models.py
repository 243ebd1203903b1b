"""Capture: each person's private capture address and the messages captured through it.

What is kept of a message is what the activity needs and nothing more: sender, recipients,
subject, time, a short text excerpt and a digest of its Message-ID (never attachments, never
the full body). The captured record links to the ``accounts.Activity`` it became; the layers
above read captured work as ordinary activities (``Activity.source``).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models

from accounts.models import Account, Activity, Contact
from salesmgmt.models import BaseModel

EXCERPT_CHARS = 500


def new_capture_token() -> str:
    """Unguessable and short enough to type: the address is the only credential of a sender."""
    return secrets.token_hex(8)


def default_excluded_domains() -> list[str]:
    return list(settings.CAPTURE_DEFAULT_EXCLUDED_DOMAINS)


class CaptureSettings(BaseModel):
    """One person's capture address and privacy choices."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="capture_settings"
    )
    token = models.CharField(max_length=32, unique=True, default=new_capture_token)
    is_paused = models.BooleanField(default=False)
    # Mail whose every outside participant is at one of these domains is dropped unread:
    # personal mail (gmail.com, …) by default; the person edits the list.
    excluded_domains = models.JSONField(default=default_excluded_domains, blank=True)

    class Meta:
        ordering = ["user_id"]
        verbose_name_plural = "capture settings"

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        return f"log+{self.token}@{settings.CAPTURE_DOMAIN}"


class CalendarSubscription(BaseModel):
    """A calendar a person subscribed by its ICS URL, read by the worker on a schedule."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_subscriptions"
    )
    url = models.URLField(max_length=2000)
    name = models.CharField(max_length=120, blank=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["owner_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "url"], name="calendar_subscription_unique")
        ]

    def __str__(self) -> str:
        return self.name or self.url


class CapturedItem(BaseModel):
    """A captured email or meeting occurrence: filed (it has an activity) or waiting unfiled."""

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        MEETING = "meeting", "Meeting"

    class Status(models.TextChoices):
        FILED = "filed", "Filed"
        UNFILED = "unfiled", "Unfiled"
        # Deleted by its owner: the content is gone, the key stays so that a re-delivered
        # copy is not captured again.
        DELETED = "deleted", "Deleted"

    class Direction(models.TextChoices):
        OUTBOUND = "outbound", "Sent"
        INBOUND = "inbound", "Received"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="captured_items"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices)
    direction = models.CharField(max_length=8, choices=Direction.choices, blank=True)
    # SHA-256 of the Message-ID (mail) or of the event's UID and occurrence (calendar): the
    # key that refuses a second copy, without keeping the id itself.
    message_key = models.CharField(max_length=64)
    sender = models.CharField(max_length=254, blank=True)
    recipients = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    occurred_at = models.DateTimeField()
    duration_minutes = models.PositiveIntegerField(default=0)
    # Meetings: SHA-256 of the event's UID, shared by all its occurrences (a feed re-read
    # removes the occurrences of its events that are gone or cancelled), and the calendar
    # subscription it came from (none for an uploaded file).
    series_key = models.CharField(max_length=64, blank=True)
    subscription = models.ForeignKey(
        CalendarSubscription,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="items",
    )
    excerpt = models.TextField(blank=True, max_length=EXCERPT_CHARS)
    account = models.ForeignKey(
        Account, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    contacts = models.ManyToManyField(Contact, blank=True, related_name="captured_items")
    # Null while unfiled; also when the activity went with its deal (deals cascade to them).
    activity = models.OneToOneField(
        Activity,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="captured_item",
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "status", "occurred_at"], name="captured_owner_status"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "message_key"], name="captured_item_owner_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject or '(no subject)'}"
