"""Retention of captured mail and meetings (CAPTURE_KEEP_DAYS)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from salesmgmt.retention import delete_oldest, purge_in_batches

from ..models import CapturedItem


def captured_items_purge(*, now: dt.datetime | None = None) -> int:
    """Delete captured items older than CAPTURE_KEEP_DAYS, a batch per transaction; returns
    how many went. Idempotent: a re-run finds fewer."""
    return purge_in_batches(lambda: captured_items_purge_batch(now=now))


@transaction.atomic
def captured_items_purge_batch(*, now: dt.datetime | None = None, size: int | None = None) -> int:
    """The oldest ``size`` items captured more than CAPTURE_KEEP_DAYS ago whose mail or
    meeting is that old too (a meeting booked far ahead stays until it is past), deleted with
    their contact links. The activity a filed item became is not touched: captured mail is a
    copy kept for filing, the activity is the record."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.CAPTURE_KEEP_DAYS)
    expired = CapturedItem.objects.filter(created_at__lt=cutoff, occurred_at__lt=cutoff)
    return delete_oldest(expired, size=size)
