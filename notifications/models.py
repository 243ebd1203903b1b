"""The inbox (``Notification``), each person's choices (``NotificationPreference``,
``DigestSchedule``) and the record of every mail sent (``EmailSend``)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models

from salesmgmt.models import BaseModel, validate_time_zone

from .kinds import Channel, Kind


class Notification(BaseModel):
    """One thing a person is told, in their inbox until it is purged (NOTIFICATIONS_KEEP_DAYS).

    ``dedupe_key`` names the thing and its window ("call_due:period 7:2026-12-07"): the same
    reminder about the same thing in the same window is stored once per person.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    # A site path ("/opportunities/12/"); mails make it absolute with SITE_URL.
    link = models.CharField(max_length=300, blank=True)
    subject_label = models.CharField(max_length=64, blank=True)
    subject_id = models.BigIntegerField(null=True, blank=True)
    dedupe_key = models.CharField(max_length=200)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], name="notification_once_per_key"
            )
        ]
        indexes = [
            # The bell: unread count of one person.
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
            models.Index(fields=["created_at"], name="notification_purge"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id}: {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(BaseModel):
    """A person's channel for one kind; no row means the kind's default (kinds.DEFAULT_CHANNELS)."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices)

    class Meta:
        ordering = ["person", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["person", "kind"], name="notification_pref_once")
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.kind}: {self.channel}"


class DigestSchedule(BaseModel):
    """When a person's weekly digest goes out: weekday and hour in their time zone.

    No row means Monday 08:00 in the company's time zone. An empty ``time_zone`` follows the
    company's (CompanySettings.time_zone), so a company move moves the digest with it.
    """

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_schedule"
    )
    is_enabled = models.BooleanField(default=True)
    # Monday is 0, as datetime.weekday() counts.
    weekday = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(6)])
    hour = models.PositiveSmallIntegerField(default=8, validators=[MaxValueValidator(23)])
    time_zone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone])

    class Meta:
        ordering = ["person"]

    def __str__(self) -> str:
        return f"{self.person_id}: day {self.weekday} at {self.hour}:00"


class EmailSend(BaseModel):
    """One mail to one person, keyed like its notification ("digest:2026-W49" for a digest).

    The unique key makes a second enqueue, a re-run or a redelivered task a no-op; the
    status says how far a send got: pending → claimed (a worker is sending) → sent. A claim
    older than EMAIL_CLAIM_TIMEOUT_SECONDS is a worker that died mid-send: the sweep sends it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CLAIMED = "claimed", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_sends"
    )
    dedupe_key = models.CharField(max_length=200)
    kind = models.CharField(max_length=32)
    notification = models.ForeignKey(
        Notification, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The digest's week ("2026-12-06", the day it covers up to) or empty.
    week_ending = models.DateField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "dedupe_key"], name="email_send_once")
        ]

    def __str__(self) -> str:
        return f"{self.dedupe_key} → {self.recipient_id} ({self.status})"
