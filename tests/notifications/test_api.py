"""/api/v1/notifications/: the requesting person's own notifications and preferences."""

from __future__ import annotations

import pytest

from notifications.kinds import Kind
from notifications.models import Notification

from .factories import NotificationFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/notifications/"


@pytest.mark.parametrize(
    "who", ["rep_a", "manager_a", "executive", "admin", "integrator", "se_a", "rep_b"]
)
def test_each_token_lists_only_its_own(api_client_for, personas, who):
    me = personas[who]
    NotificationFactory(recipient=me, title="Mine")
    theirs = NotificationFactory(recipient=personas["manager_b"], title="Theirs")
    api = api_client_for(me)

    listed = api.get(URL).json()
    assert [row["title"] for row in listed["results"]] == ["Mine"]
    assert api.get(f"{URL}{theirs.pk}/").status_code == 404
    assert api.post(f"{URL}{theirs.pk}/read/").status_code == 404


def test_filter_mark_read_and_mark_all(api_client_for, rep_a):
    one = NotificationFactory(recipient=rep_a, kind=Kind.CALL_DUE)
    NotificationFactory(recipient=rep_a, kind=Kind.QUOTA_CHANGED)
    NotificationFactory(recipient=rep_a, kind=Kind.QUOTA_CHANGED)
    api = api_client_for(rep_a)

    assert api.get(URL, {"kind": Kind.CALL_DUE}).json()["count"] == 1
    assert api.get(URL, {"kind": "nonsense"}).status_code == 400
    read = api.post(f"{URL}{one.pk}/read/")
    assert read.status_code == 200
    assert read.json()["is_read"] is True
    assert api.get(URL, {"unread": "true"}).json()["count"] == 2
    result = api.post(f"{URL}read-all/", {"kind": Kind.QUOTA_CHANGED}, format="json").json()
    assert result == {"marked": 2, "unread": 0}
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_preferences_read_and_change(api_client_for, rep_a):
    api = api_client_for(rep_a)
    before = api.get(f"{URL}preferences/").json()
    assert before["channels"][Kind.MILESTONE_PENDING] == "immediate"
    assert before["digest"] == {"is_enabled": True, "weekday": 0, "hour": 8, "time_zone": ""}

    changed = api.patch(
        f"{URL}preferences/",
        {"channels": {Kind.CALL_DUE: "off"}, "digest": {"hour": 6, "time_zone": "Asia/Tokyo"}},
        format="json",
    )
    assert changed.status_code == 200
    assert changed.json()["channels"][Kind.CALL_DUE] == "off"
    assert changed.json()["digest"]["hour"] == 6

    bad = api.patch(f"{URL}preferences/", {"digest": {"time_zone": "Nowhere/X"}}, format="json")
    assert bad.status_code == 400
    bad = api.patch(f"{URL}preferences/", {"channels": {"nope": "off"}}, format="json")
    assert bad.status_code == 400


def test_the_list_costs_the_same_for_any_number(api_client_for, rep_a, django_assert_num_queries):
    api = api_client_for(rep_a)
    NotificationFactory.create_batch(3, recipient=rep_a)
    api.get(URL)  # warm-up (token last-used write)
    # token (+user), COUNT, page
    with django_assert_num_queries(3):
        api.get(URL)
    NotificationFactory.create_batch(30, recipient=rep_a)
    with django_assert_num_queries(3):
        api.get(URL)


def test_the_schema_lists_the_endpoints(client):
    schema = client.get("/api/schema/").content.decode()
    assert "/api/v1/notifications/read-all/" in schema
    assert "/api/v1/notifications/preferences/" in schema
