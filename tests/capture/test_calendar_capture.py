"""Calendar capture: a recurring meeting becomes Meeting activities; a moved occurrence
updates its activity, a cancelled one removes it, and a re-read changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Activity
from capture import services
from capture.models import CalendarSubscription, CapturedItem
from tests.capture.scenario import customer_of, weekly_base, weekly_feed

pytestmark = pytest.mark.django_db


def meetings():
    return Activity.objects.filter(source=Activity.Source.CALENDAR).order_by("occurred_at")


def test_upload_then_moved_and_cancelled_occurrences(rep_a):
    customer = customer_of(rep_a)

    first = services.calendar_upload(user=rep_a, data=weekly_feed(rep_a, moved_and_cancelled=False))

    # only the customer meeting counts: internal and personal (gmail) events are not kept
    assert (first.created, first.updated, first.removed) == (4, 0, 0)
    assert meetings().count() == 4
    assert {a.opportunity_id for a in meetings()} == {customer.older_deal.pk}
    assert {a.kind for a in meetings()} == {Activity.Kind.MEETING}
    assert {a.duration_minutes for a in meetings()} == {30}
    second_id = meetings()[1].pk

    changed = services.calendar_upload(
        user=rep_a, data=weekly_feed(rep_a, moved_and_cancelled=True)
    )

    assert (changed.created, changed.updated, changed.removed) == (0, 1, 1)
    base, week = weekly_base(), dt.timedelta(days=7)
    assert [a.occurred_at for a in meetings()] == [
        base,
        base + week + dt.timedelta(days=1, hours=1),
        base + 3 * week,
    ]
    moved = Activity.objects.get(pk=second_id)  # the same activity, moved
    assert moved.occurred_at == base + week + dt.timedelta(days=1, hours=1)
    assert moved.duration_minutes == 60
    assert "(moved)" in moved.notes

    again = services.calendar_upload(user=rep_a, data=weekly_feed(rep_a, moved_and_cancelled=True))
    assert (again.created, again.updated, again.removed) == (0, 0, 0)
    assert meetings().count() == 3
    assert CapturedItem.objects.filter(kind="meeting").count() == 3


def test_meeting_without_an_open_deal_waits_unfiled(rep_a):
    services.calendar_upload(user=rep_a, data=weekly_feed(rep_a, moved_and_cancelled=False))
    # no account has acme.example's domain: the buyer is unknown, nothing to file on
    unfiled = CapturedItem.objects.filter(owner=rep_a, status=CapturedItem.Status.UNFILED)
    assert unfiled.count() == 4
    assert not meetings().exists()


def test_bad_file_is_a_field_error(rep_a):
    with pytest.raises(ValidationError) as error:
        services.calendar_upload(user=rep_a, data=b"not a calendar")
    assert "file" in error.value.message_dict


def test_paused_capture_reads_nothing(rep_a):
    customer_of(rep_a)
    services.capture_settings_update(user=rep_a, is_paused=True)
    result = services.calendar_upload(
        user=rep_a, data=weekly_feed(rep_a, moved_and_cancelled=False)
    )
    assert result.created == 0
    assert not meetings().exists()


def test_subscription_refuses_internal_addresses_unless_allowed(rep_a, settings):
    with pytest.raises(ValidationError) as error:
        services.calendar_subscription_add(user=rep_a, url="http://127.0.0.1:9/cal.ics")
    assert "url" in error.value.message_dict
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    subscription = services.calendar_subscription_add(
        user=rep_a, url="http://127.0.0.1:9/cal.ics", name="Work"
    )
    assert CalendarSubscription.objects.get(owner=rep_a) == subscription
    with pytest.raises(ValidationError):
        services.calendar_subscription_add(user=rep_a, url="http://127.0.0.1:9/cal.ics")


def test_failed_fetch_is_kept_on_the_subscription(rep_a):
    subscription = CalendarSubscription.objects.create(owner=rep_a, url="http://10.0.0.1/cal.ics")
    services.calendar_subscription_fetch(subscription=subscription)
    subscription.refresh_from_db()
    assert subscription.last_error
    assert subscription.last_fetched_at is not None
