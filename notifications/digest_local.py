"""A minimal stand-in for the digest content (``notifications.digest.weekly_digest``, built
separately): the person's notifications of the week, by kind, with links."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from salesmgmt.models import User

from .links import absolute
from .models import Notification


@dataclass(frozen=True)
class DigestItem:
    title: str
    link: str
    kind_label: str


@dataclass(frozen=True)
class Digest:
    week_ending: dt.date
    items: list[DigestItem]


def weekly_digest(*, person: User, week_ending: dt.date) -> Digest:
    since = dt.datetime.combine(week_ending - dt.timedelta(days=7), dt.time(0), tzinfo=dt.UTC)
    rows = Notification.objects.filter(recipient=person, created_at__gte=since).order_by(
        "kind", "-created_at"
    )[:200]
    return Digest(
        week_ending=week_ending,
        items=[DigestItem(n.title, absolute(n.link), n.get_kind_display()) for n in rows],
    )
