"""The product catalogue page and the line items on the deal page, as each role."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import OpportunityChange, OpportunityLineItem, Product
from tests.accounts.products import make_product


def test_everyone_reads_the_catalogue_admins_add_to_it(client, rep_a, admin_user):
    make_product("GTX Pro", "4821", family="GTX")
    client.force_login(rep_a)
    page = client.get(reverse("accounts:product_list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "GTX Pro" in html
    assert "New product" not in html
    assert f'href="{reverse("accounts:product_list")}"' in html  # in the navigation
    assert client.post(reverse("accounts:product_list"), {"name": "X"}).status_code == 403

    client.force_login(admin_user)
    created = client.post(
        reverse("accounts:product_list"),
        {"name": "MG Special", "family": "MG", "list_price": "55", "is_active": "on"},
    )
    assert created.status_code == 302
    assert Product.objects.get(name="MG Special").list_price == Decimal(55)


def test_a_refused_product_shows_on_the_form(client, admin_user):
    make_product("GTX Pro", "4821")
    client.force_login(admin_user)
    response = client.post(
        reverse("accounts:product_list"), {"name": "GTX Pro", "list_price": "1", "currency": "ZZZ"}
    )
    assert response.status_code == 400
    assert Product.objects.count() == 1


def test_admin_edits_and_archives_a_product(client, admin_user, rep_a):
    product = make_product("GTX Plus Pro", "5482", family="GTX")
    url = reverse("accounts:product_detail", kwargs={"product_id": product.pk})
    client.force_login(rep_a)
    assert client.get(url).status_code == 200
    assert client.post(url, {"name": "Renamed", "list_price": "1"}).status_code == 403
    archive = reverse("accounts:product_archive", kwargs={"product_id": product.pk})
    assert client.post(archive).status_code == 403

    client.force_login(admin_user)
    saved = client.post(
        url, {"name": "GTX Plus Pro", "family": "GTX", "list_price": "5300", "is_active": "on"}
    )
    assert saved.status_code == 302
    assert client.post(archive).status_code == 302
    product.refresh_from_db()
    assert (product.list_price, product.is_active) == (Decimal(5300), False)


def test_the_catalogue_is_paginated_with_a_fixed_number_of_queries(
    client, rep_a, django_assert_num_queries
):
    for n in range(30):
        make_product(f"Part {n:02}", "10", family="Parts" if n % 2 else "Kits")
    client.force_login(rep_a)
    # session, user, the page (26 rows read: 15 fit on it, so they are the count), the
    # families, the bell's unread count
    with django_assert_num_queries(5):
        response = client.get(reverse("accounts:product_list"), {"family": "Parts"})
    assert len(response.context["products"].page.object_list) == 15
    # ...and a COUNT(*) when the first page is full
    with django_assert_num_queries(6):
        response = client.get(reverse("accounts:product_list"))
    assert len(response.context["products"].page.object_list) == 25


def test_the_owner_adds_edits_and_removes_line_items_on_the_deal_page(client, rep_a, deal_a):
    gtx = make_product("GTX Pro", "4821", family="GTX")
    client.force_login(rep_a)
    page = client.get(reverse("accounts:opportunity_detail", args=[deal_a.pk])).content.decode()
    assert "Add a product" in page

    added = client.post(
        reverse("accounts:line_item_add", args=[deal_a.pk]),
        {"product": gtx.pk, "quantity": "3", "discount_percent": "0"},
    )
    assert added.status_code == 302
    item = OpportunityLineItem.objects.get()
    deal_a.refresh_from_db()
    assert deal_a.amount == Decimal("14463.00")

    edited = client.post(
        reverse("accounts:line_item_edit", kwargs={"line_item_id": item.pk}),
        {f"li{item.pk}-quantity": "3", f"li{item.pk}-discount_percent": "50"},
    )
    assert edited.status_code == 302
    deal_a.refresh_from_db()
    assert deal_a.amount == Decimal("7231.50")
    page = client.get(reverse("accounts:opportunity_detail", args=[deal_a.pk])).content.decode()
    assert "GTX Pro" in page[page.index('id="line-items"') :]
    # the amount is the products' total: read-only on the edit form while there are products
    amount_input = re.search(r'<input[^>]*name="amount"[^>]*>', page).group(0)
    assert "readonly" in amount_input
    assert "change the products below" in page

    removed = client.post(reverse("accounts:line_item_remove", kwargs={"line_item_id": item.pk}))
    assert removed.status_code == 302
    assert not OpportunityLineItem.objects.exists()
    amounts = OpportunityChange.objects.filter(opportunity=deal_a, field="amount")
    assert amounts.count() == 3  # created, added, edited (removing the last keeps it)


def test_a_refused_line_item_is_a_message_on_the_deal_page(client, rep_a, deal_a):
    gtx = make_product("GTX Pro", "4821")
    client.force_login(rep_a)
    response = client.post(
        reverse("accounts:line_item_add", args=[deal_a.pk]),
        {"product": gtx.pk, "quantity": "0", "discount_percent": "0"},
        follow=True,
    )
    assert "Quantity" in response.content.decode()
    assert not OpportunityLineItem.objects.exists()


@pytest.mark.parametrize(("persona", "status"), [("rep_b", 404), ("manager_b", 404)])
def test_others_cannot_touch_the_line_items(client, personas, persona, status, rep_a, deal_a):
    gtx = make_product("GTX Pro", "4821")
    item = services.line_item_add(actor=rep_a, opportunity=deal_a, product=gtx)
    client.force_login(personas[persona])
    add = reverse("accounts:line_item_add", args=[deal_a.pk])
    assert client.post(add, {"product": gtx.pk, "quantity": "1"}).status_code == status
    remove = reverse("accounts:line_item_remove", kwargs={"line_item_id": item.pk})
    assert client.post(remove).status_code == status
    assert OpportunityLineItem.objects.count() == 1


def test_the_manager_edits_the_executive_sees_the_forms(client, manager_a, executive, deal_a):
    make_product("GTX Pro", "4821")
    for viewer in (manager_a, executive):
        client.force_login(viewer)
        page = client.get(reverse("accounts:opportunity_detail", args=[deal_a.pk]))
        assert "Add a product" in page.content.decode()
