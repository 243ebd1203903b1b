"""Reads of the notifications app: always the requesting person's own rows."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404

from salesmgmt.models import User

from .kinds import DEFAULT_CHANNELS, Channel, Kind
from .models import DigestSchedule, Notification, NotificationPreference


def unread_count(*, user: User) -> int:
    """The bell: one COUNT on the partial index of unread rows."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_list(
    *, user: User, kind: str = "", unread_only: bool = False
) -> QuerySet[Notification]:
    """The person's inbox, newest first (nobody sees anyone else's)."""
    rows = Notification.objects.filter(recipient=user)
    if kind:
        rows = rows.filter(kind=kind)
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return rows.order_by("-created_at", "-id")


def notification_get(*, user: User, pk: int) -> Notification:
    """One of the person's notifications; anyone else's is a 404, like one that never was."""
    found = Notification.objects.filter(recipient=user, pk=pk).first()
    if found is None:
        raise Http404("No such notification.")
    return found


@dataclass(frozen=True)
class KindChoice:
    kind: str
    label: str
    channel: str
    is_default: bool


@dataclass(frozen=True)
class Preferences:
    kinds: list[KindChoice]
    schedule: DigestSchedule


def preferences_get(*, user: User) -> Preferences:
    """Every kind with the person's channel (or the default) and their digest schedule."""
    chosen = dict(NotificationPreference.objects.filter(person=user).values_list("kind", "channel"))
    kinds = [
        KindChoice(
            kind=value,
            label=label,
            channel=chosen.get(value, DEFAULT_CHANNELS.get(value, Channel.IN_APP)),
            is_default=value not in chosen,
        )
        for value, label in Kind.choices
    ]
    schedule = DigestSchedule.objects.filter(person=user).first() or DigestSchedule(person=user)
    return Preferences(kinds=kinds, schedule=schedule)
