"""The inbox: the bell on every page, the notifications page, read marks, preferences; each
person sees only their own, on the pages and through the API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from notifications.kinds import Channel, Kind
from notifications.models import DigestSchedule, Notification, NotificationPreference

from .factories import NotificationFactory

pytestmark = pytest.mark.django_db

PAGE_PEOPLE = ["rep_a", "rep_b", "se_a", "manager_a", "manager_b", "executive", "admin"]


@pytest.mark.parametrize("who", PAGE_PEOPLE)
def test_every_person_sees_their_own_inbox_and_bell_only(client, personas, who):
    me = personas[who]
    other = personas["rep_b" if who != "rep_b" else "rep_a"]
    mine = NotificationFactory(recipient=me, title="For me")
    NotificationFactory(recipient=other, title="Not for me")
    client.force_login(me)

    response = client.get(reverse("notifications:inbox"))

    assert response.status_code == 200
    assert b"For me" in response.content
    assert b"Not for me" not in response.content
    assert b'data-testid="bell-count">1<' in response.content
    # opening someone else's is a 404, like one that does not exist
    theirs = Notification.objects.get(recipient=other)
    assert client.post(reverse("notifications:open", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("notifications:open", args=[mine.pk])).status_code == 302


def test_the_bell_is_on_other_pages_and_hides_at_zero(client, rep_a):
    client.force_login(rep_a)
    assert b'data-testid="bell"' in client.get(reverse("accounts:rep_home")).content
    assert b"bell-count" not in client.get(reverse("accounts:rep_home")).content
    NotificationFactory(recipient=rep_a)
    NotificationFactory(recipient=rep_a)
    assert b'data-testid="bell-count">2<' in client.get(reverse("accounts:rep_home")).content


def test_integrators_have_no_pages(client, integrator):
    client.force_login(integrator)
    assert client.get(reverse("notifications:inbox")).status_code == 403


def test_opening_marks_read_and_goes_to_the_record(client, rep_a):
    note = NotificationFactory(recipient=rep_a, link="/opportunities/42/")
    client.force_login(rep_a)
    response = client.post(reverse("notifications:open", args=[note.pk]))
    assert response["Location"] == "/opportunities/42/"
    note.refresh_from_db()
    assert note.is_read


def test_filter_by_kind_and_mark_all_read(client, rep_a):
    NotificationFactory(recipient=rep_a, kind=Kind.QUOTA_CHANGED, title="Quota up")
    NotificationFactory(recipient=rep_a, kind=Kind.CALL_DUE, title="Call due")
    client.force_login(rep_a)

    page = client.get(reverse("notifications:inbox"), {"kind": Kind.QUOTA_CHANGED})
    assert b"Quota up" in page.content
    assert b"Call due" not in page.content
    # a bad kind is ignored (the form is invalid): everything, not a 500
    assert client.get(reverse("notifications:inbox"), {"kind": "nope"}).status_code == 200

    client.post(reverse("notifications:mark_all_read"), {"kind": Kind.CALL_DUE})
    assert list(
        Notification.objects.filter(read_at__isnull=True).values_list("kind", flat=True)
    ) == [Kind.QUOTA_CHANGED]
    client.post(reverse("notifications:mark_all_read"))
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_inbox_is_paginated_with_a_fixed_number_of_queries(
    client, rep_a, django_assert_num_queries
):
    NotificationFactory.create_batch(30, recipient=rep_a)
    client.force_login(rep_a)
    # session, user, COUNT for the pager, the page, the bell's unread count
    with django_assert_num_queries(5):
        response = client.get(reverse("notifications:inbox"))
    assert len(response.context["notifications"].page.object_list) == 25
    with django_assert_num_queries(5):
        client.get(reverse("notifications:inbox"), {"page": 2})


def test_preferences_page_saves_channels_and_the_digest_time(client, rep_a):
    client.force_login(rep_a)
    page = client.get(reverse("notifications:preferences"))
    assert page.status_code == 200
    data = {f"kind_{kind}": Channel.IN_APP for kind in Kind.values}
    data |= {
        f"kind_{Kind.CALL_DUE}": Channel.OFF,
        "digest_enabled": "on",
        "digest_weekday": "4",
        "digest_hour": "7",
        "digest_time_zone": "Europe/Berlin",
    }
    assert client.post(reverse("notifications:preferences"), data).status_code == 302
    assert NotificationPreference.objects.get(person=rep_a, kind=Kind.CALL_DUE).channel == "off"
    schedule = DigestSchedule.objects.get(person=rep_a)
    assert (schedule.weekday, schedule.hour, schedule.time_zone) == (4, 7, "Europe/Berlin")

    bad = client.post(reverse("notifications:preferences"), data | {"digest_time_zone": "Mars/X"})
    assert bad.status_code == 400
    assert b"time zone" in bad.content.lower()


def test_old_notifications_are_purged_after_the_configured_days(rep_a, settings):
    import datetime as dt

    from django.utils import timezone

    from notifications.services import notifications_purge

    settings.NOTIFICATIONS_KEEP_DAYS = 30
    old = NotificationFactory(recipient=rep_a, created_at=timezone.now() - dt.timedelta(days=31))
    kept = NotificationFactory(recipient=rep_a, created_at=timezone.now() - dt.timedelta(days=29))
    assert notifications_purge() == 1
    assert list(Notification.objects.values_list("pk", flat=True)) == [kept.pk]
    assert old.pk != kept.pk
