"""Capture pages and API: only the person's own items, every role; filing, deleting, settings;
query budgets on the lists."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Activity
from capture import services
from capture.models import CapturedItem
from capture.parsing import parse_mail
from tests.capture.scenario import customer_of, raw_mail, unknown_mail

pytestmark = pytest.mark.django_db

PEOPLE = ["rep_a", "rep_b", "se_a", "manager_a", "manager_b", "executive", "admin"]


def unfiled_item(owner, n: int = 0) -> CapturedItem:
    raw = raw_mail(
        sender=f"p{n}@nowhere.example",
        to=[owner.email],
        subject=f"Unfiled {n} of {owner.username}",
        message_id=f"<u{n}-{owner.pk}@x>",
    )
    return services.captured_mail_record(owner=owner, mail=parse_mail(raw))


@pytest.fixture
def items(personas):
    return {name: unfiled_item(personas[name]) for name in PEOPLE}


@pytest.mark.parametrize("viewer", PEOPLE)
def test_unfiled_page_shows_only_own_items(client, personas, items, viewer):
    client.force_login(personas[viewer])
    response = client.get(reverse("capture:unfiled"))
    assert response.status_code == 200
    body = response.content.decode()
    for name in PEOPLE:
        assert (f"Unfiled 0 of {personas[name].username}" in body) == (name == viewer)


@pytest.mark.parametrize("viewer", PEOPLE)
def test_nobody_files_or_deletes_someone_elses_item(client, personas, items, viewer):
    client.force_login(personas[viewer])
    others = [items[name] for name in PEOPLE if name != viewer]
    for item in others:
        assert client.post(reverse("capture:item_delete", args=[item.pk])).status_code == 404
        assert client.post(reverse("capture:item_file", args=[item.pk])).status_code == 404
    assert CapturedItem.objects.filter(status="unfiled").count() == len(PEOPLE)


def test_integrator_gets_no_pages(client, integrator):
    client.force_login(integrator)
    assert client.get(reverse("capture:unfiled")).status_code == 403
    assert client.get(reverse("capture:settings")).status_code == 403


def test_file_from_the_unfiled_page(client, rep_a):
    customer = customer_of(rep_a)
    item = services.captured_mail_record(owner=rep_a, mail=parse_mail(unknown_mail(rep_a)))
    client.force_login(rep_a)
    page = client.get(reverse("capture:unfiled")).content.decode()
    assert customer.older_deal.name in page

    response = client.post(
        reverse("capture:item_file", args=[item.pk]), {"opportunity": customer.older_deal.pk}
    )

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == CapturedItem.Status.FILED
    deal_page = client.get(reverse("accounts:opportunity_detail", args=[customer.older_deal.pk]))
    assert 'data-testid="activity-source"' in deal_page.content.decode()
    assert "Captured email" in deal_page.content.decode()


def test_filing_on_an_invisible_deal_is_refused(client, rep_a, rep_b):
    item = unfiled_item(rep_a)
    foreign = customer_of(rep_b).older_deal
    client.force_login(rep_a)
    client.post(reverse("capture:item_file", args=[item.pk]), {"opportunity": foreign.pk})
    client.post(reverse("capture:item_file", args=[item.pk]), {"opportunity": "x"})
    item.refresh_from_db()
    assert item.status == CapturedItem.Status.UNFILED


def test_manager_sees_filed_items_as_activities_of_the_subtree(client, rep_a, manager_a, rep_b):
    customer = customer_of(rep_a)
    item = services.captured_mail_record(owner=rep_a, mail=parse_mail(unknown_mail(rep_a)))
    services.captured_item_file(actor=rep_a, item=item, opportunity=customer.older_deal)
    captured = Activity.objects.filter(source=Activity.Source.EMAIL)
    assert captured.visible_to(manager_a).count() == 1
    assert captured.visible_to(rep_b).count() == 0


def test_settings_page_pause_exclusions_rotate(client, rep_a):
    client.force_login(rep_a)
    page = client.get(reverse("capture:settings"))
    address = services.capture_settings_ensure(user=rep_a).address
    assert address in page.content.decode()
    assert "<title>Capture settings · salesmgmt</title>" in page.content.decode()
    assert page.content.decode().count('id="calendars-title"') == 1

    bad = client.post(reverse("capture:settings"), {"excluded_domains": "not a domain!"})
    assert bad.status_code == 400
    assert "is not a mail domain" in bad.content.decode()

    client.post(reverse("capture:settings"), {"is_paused": "on", "excluded_domains": "a.example"})
    settings_row = services.capture_settings_ensure(user=rep_a)
    assert settings_row.is_paused
    assert settings_row.excluded_domains == ["a.example"]

    client.post(reverse("capture:settings"), {"rotate": "1"})
    assert services.capture_settings_ensure(user=rep_a).address != address


def test_unfiled_page_query_count_does_not_grow(client, rep_a, django_assert_max_num_queries):
    customer_of(rep_a)
    client.force_login(rep_a)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("capture:unfiled")).status_code == 200
        return len(queries)

    for n in range(2):
        unfiled_item(rep_a, n)
    few = count()
    for n in range(2, 20):
        unfiled_item(rep_a, n)
    # session, user, messages..., COUNT(*), the page of items (account, activity joined),
    # the open deals to file on (one query for the page): the same for 2 rows as for 20
    assert count() == few


# --- API ---------------------------------------------------------------------------------


@pytest.mark.parametrize("viewer", PEOPLE)
def test_api_lists_only_own_items(api_client_for, personas, items, viewer):
    response = api_client_for(personas[viewer]).get("/api/v1/capture/items/?status=unfiled")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [items[viewer].pk]
    other = items["rep_b" if viewer != "rep_b" else "rep_a"]
    client = api_client_for(personas[viewer])
    assert client.get(f"/api/v1/capture/items/{other.pk}/").status_code == 404
    assert client.delete(f"/api/v1/capture/items/{other.pk}/").status_code == 404


def test_api_integrator_sees_nothing_and_has_no_settings(api_client_for, integrator, items):
    client = api_client_for(integrator)
    assert client.get("/api/v1/capture/items/").json()["results"] == []
    assert client.get("/api/v1/capture/settings/").status_code == 403


def test_api_file_and_delete(api_client_for, rep_a):
    customer = customer_of(rep_a)
    item = services.captured_mail_record(owner=rep_a, mail=parse_mail(unknown_mail(rep_a)))
    client = api_client_for(rep_a)

    bad = client.post(f"/api/v1/capture/items/{item.pk}/file/", {"opportunity": 999999})
    assert bad.status_code == 400
    assert "opportunity" in bad.json()["fields"]

    filed = client.post(
        f"/api/v1/capture/items/{item.pk}/file/", {"opportunity": customer.older_deal.pk}
    )
    assert filed.status_code == 200
    assert filed.json()["status"] == "filed"
    assert filed.json()["opportunity"] == customer.older_deal.pk
    again = client.post(
        f"/api/v1/capture/items/{item.pk}/file/", {"opportunity": customer.older_deal.pk}
    )
    assert again.status_code == 400

    assert client.delete(f"/api/v1/capture/items/{item.pk}/").status_code == 204
    assert not Activity.objects.filter(source=Activity.Source.EMAIL).exists()
    assert client.get(f"/api/v1/capture/items/{item.pk}/").status_code == 404


def test_api_settings(api_client_for, rep_a):
    client = api_client_for(rep_a)
    body = client.get("/api/v1/capture/settings/").json()
    assert body["address"].startswith("log+")
    assert "gmail.com" in body["excluded_domains"]
    bad = client.patch("/api/v1/capture/settings/", {"excluded_domains": ["nope"]}, format="json")
    assert bad.status_code == 400
    assert "excluded_domains" in bad.json()["fields"]
    ok = client.patch(
        "/api/v1/capture/settings/",
        {"is_paused": True, "excluded_domains": ["Gmail.com"]},
        format="json",
    )
    assert ok.json()["is_paused"] is True
    assert ok.json()["excluded_domains"] == ["gmail.com"]
    rotated = client.post("/api/v1/capture/settings/rotate/").json()
    assert rotated["address"] != body["address"]


def test_api_list_query_count_does_not_grow(api_client_for, rep_a):
    client = api_client_for(rep_a)
    client.get("/api/v1/capture/items/")  # warm-up: stamps the token's last use

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/capture/items/").status_code == 200
        return len(queries)

    customer = customer_of(rep_a)
    for n in range(2):
        item = unfiled_item(rep_a, n)
    services.captured_item_file(actor=rep_a, item=item, opportunity=customer.older_deal)
    few = count()
    for n in range(2, 20):
        unfiled_item(rep_a, n)
    # 1 the token with its user, 2 COUNT(*), 3 the page (account, activity joined)
    assert count() == few == 3


def test_schema_lists_capture_endpoints(client, admin_user):
    client.force_login(admin_user)
    schema = client.get("/api/schema/?format=json").json()
    for path in (
        "/api/v1/capture/items/",
        "/api/v1/capture/items/{id}/file/",
        "/api/v1/capture/settings/",
    ):
        assert path in schema["paths"]


def test_calendar_upload_subscribe_and_unsubscribe_pages(client, rep_a, rep_b, api_isolation):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from capture.models import CalendarSubscription
    from tests.capture.scenario import weekly_feed

    customer_of(rep_a)
    client.force_login(rep_a)
    upload = SimpleUploadedFile("work.ics", weekly_feed(rep_a, moved_and_cancelled=False))
    response = client.post(reverse("capture:calendar_upload"), {"file": upload}, follow=True)
    assert "4 new" in response.content.decode()
    assert Activity.objects.filter(source=Activity.Source.CALENDAR).count() == 4
    bad = SimpleUploadedFile("bad.ics", b"nope")
    assert client.post(reverse("capture:calendar_upload"), {"file": bad}).status_code == 400

    refused = client.post(reverse("capture:calendar_subscribe"), {"url": "http://10.0.0.1/c.ics"})
    assert refused.status_code == 400
    assert not CalendarSubscription.objects.exists()
    added = client.post(
        reverse("capture:calendar_subscribe"),
        {"url": "https://erp.example.com/rep.ics", "name": "Work"},  # public (tests' DNS)
    )
    assert added.status_code == 302
    subscription = CalendarSubscription.objects.get(owner=rep_a)
    assert "Work" in client.get(reverse("capture:settings")).content.decode()

    client.force_login(rep_b)
    assert (
        client.post(reverse("capture:calendar_unsubscribe", args=[subscription.pk])).status_code
        == 404
    )
    client.force_login(rep_a)
    client.post(reverse("capture:calendar_unsubscribe", args=[subscription.pk]))
    assert not CalendarSubscription.objects.exists()


def test_api_calendars(api_client_for, rep_a, rep_b, api_isolation):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.capture.scenario import weekly_feed

    customer_of(rep_a)
    client = api_client_for(rep_a)
    refused = client.post("/api/v1/capture/calendars/", {"url": "http://127.0.0.1/c.ics"})
    assert refused.status_code == 400
    assert "url" in refused.json()["fields"]
    created = client.post(
        "/api/v1/capture/calendars/", {"url": "https://erp.example.com/c.ics", "name": "Work"}
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    listed = client.get("/api/v1/capture/calendars/").json()["results"]
    assert [row["id"] for row in listed] == [pk]
    assert api_client_for(rep_b).delete(f"/api/v1/capture/calendars/{pk}/").status_code == 404
    assert client.delete(f"/api/v1/capture/calendars/{pk}/").status_code == 204

    upload = SimpleUploadedFile("c.ics", weekly_feed(rep_a, moved_and_cancelled=False))
    read = client.post("/api/v1/capture/calendars/upload/", {"file": upload}, format="multipart")
    assert read.status_code == 200
    assert read.json() == {"created": 4, "updated": 0, "removed": 0}
    bad = client.post(
        "/api/v1/capture/calendars/upload/",
        {"file": SimpleUploadedFile("c.ics", b"nope")},
        format="multipart",
    )
    assert bad.status_code == 400
    assert "file" in bad.json()["fields"]


def test_api_sets_an_accounts_mail_domain(api_client_for, rep_a):
    client = api_client_for(rep_a)
    created = client.post("/api/v1/accounts/", {"name": "Umbrella", "domain": "umbrella.example"})
    assert created.status_code == 201
    assert created.json()["domain"] == "umbrella.example"
