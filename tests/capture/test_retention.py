"""Retention of captured mail (CAPTURE_KEEP_DAYS): old items go, their activities stay."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import Activity
from capture import services, tasks
from capture.models import CapturedItem
from salesmgmt.celery import beat_schedule
from tests.factories import ActivityFactory

pytestmark = pytest.mark.django_db


def _item(owner, key: str, *, age_days: int, occurs_in_days: int | None = None, **fields):
    now = timezone.now()
    created = now - dt.timedelta(days=age_days)
    occurred = now + dt.timedelta(days=occurs_in_days) if occurs_in_days else created
    values = {"kind": "email", "status": "unfiled", "excerpt": "Thanks for the call", **fields}
    return CapturedItem.objects.create(
        owner=owner, message_key=key, subject=key, created_at=created, occurred_at=occurred,
        **values,
    )  # fmt: skip


def test_items_older_than_the_setting_are_deleted_and_their_activities_stay(rep_a, settings):
    settings.CAPTURE_KEEP_DAYS = 365
    activity = ActivityFactory(owner=rep_a, kind=Activity.Kind.EMAIL, source="email")
    old_filed = _item(rep_a, "filed", age_days=400, status="filed", activity=activity)
    old_unfiled = _item(rep_a, "unfiled", age_days=400)
    old_deleted = _item(rep_a, "deleted", age_days=366, status="deleted")
    recent = _item(rep_a, "recent", age_days=300)
    # Captured long ago, but the meeting is still ahead: kept until it is past.
    booked_ahead = _item(rep_a, "ahead", age_days=400, occurs_in_days=10, kind="meeting")

    purged = services.captured_items_purge()

    assert purged == 3
    kept = set(CapturedItem.objects.values_list("pk", flat=True))
    assert kept == {recent.pk, booked_ahead.pk}
    assert {old_filed.pk, old_unfiled.pk, old_deleted.pk}.isdisjoint(kept)
    assert Activity.objects.filter(pk=activity.pk).exists()


def test_the_purge_goes_in_batches_and_a_rerun_finds_nothing(rep_a, settings, monkeypatch):
    settings.CAPTURE_KEEP_DAYS = 100
    monkeypatch.setattr("salesmgmt.retention.PURGE_BATCH", 2)
    for n in range(5):
        _item(rep_a, f"old{n}", age_days=101 + n)

    assert services.captured_items_purge_batch() == 2  # the oldest two
    assert set(CapturedItem.objects.values_list("message_key", flat=True)) == {
        "old0", "old1", "old2",
    }  # fmt: skip
    assert tasks.purge_captured_items() == 3  # the nightly task: the rest, batch by batch
    assert tasks.purge_captured_items() == 0
    assert not CapturedItem.objects.exists()


def test_the_purge_is_scheduled_nightly(settings):
    entry = beat_schedule(settings)["capture-purge-nightly"]

    assert entry["task"] == "capture.tasks.purge_captured_items"
    assert entry["schedule"].hour == {settings.NIGHTLY_JOBS_HOUR}
