"""/api/v1/products/ and /api/v1/opportunities/{id}/line-items/ as every role: everyone reads
the catalogue, admins and integrations change it; a deal's line items follow the deal's
visibility and edit rights; bad input is a 400 with field messages; lists have budgets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services
from accounts.models import OpportunityLineItem, Product
from tests.accounts.products import make_product
from tests.factories import AccountFactory

PRODUCTS = "/api/v1/products/"


@pytest.fixture
def deal(process, rep_a):
    return services.opportunity_create(
        actor=rep_a,
        account=AccountFactory(owner=rep_a, name="Bluth Logistics"),
        name="Bluth depot rollout",
        amount=Decimal("8000"),
        expected_close_on=dt.date(2030, 6, 30),
    )


def items_url(deal) -> str:
    return f"/api/v1/opportunities/{deal.pk}/line-items/"


@pytest.mark.parametrize("persona", ["admin", "integrator"])
def test_admins_and_integrations_keep_the_catalogue(personas, persona, api_client_for):
    client = api_client_for(personas[persona])
    created = client.post(
        PRODUCTS,
        {"name": "GTX Plus Pro", "family": "GTX", "list_price": "5482.00"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["currency"], body["is_active"]) == ("USD", True)

    edited = client.patch(f"{PRODUCTS}{body['id']}/", {"list_price": "5300"}, format="json")
    assert edited.status_code == 200, edited.content
    archived = client.post(f"{PRODUCTS}{body['id']}/archive/")
    assert archived.status_code == 200
    assert archived.json()["is_active"] is False


@pytest.mark.parametrize("persona", ["rep_a", "manager_a", "executive"])
def test_sellers_read_the_catalogue_only(personas, persona, api_client_for):
    product = make_product("MG Special", "55", family="MG")
    client = api_client_for(personas[persona])
    listed = client.get(PRODUCTS)
    assert listed.status_code == 200
    assert [row["name"] for row in listed.json()["results"]] == ["MG Special"]
    assert client.post(PRODUCTS, {"name": "MG Advanced"}, format="json").status_code == 403
    assert (
        client.patch(f"{PRODUCTS}{product.pk}/", {"family": "X"}, format="json").status_code == 403
    )
    assert client.post(f"{PRODUCTS}{product.pk}/archive/").status_code == 403
    assert Product.objects.get().family == "MG"


def test_filters_by_family_and_active(rep_a, admin_user, api_client_for):
    make_product("GTX Pro", "4821", family="GTX")
    make_product("GTX Plus Pro", "5482", family="GTX")
    old = make_product("GTX Basic", "550", family="GTX")
    make_product("MG Special", "55", family="MG")
    services.product_archive(actor=admin_user, product=old)
    client = api_client_for(rep_a)

    def names(**params) -> list[str]:
        return [row["name"] for row in client.get(PRODUCTS, params).json()["results"]]

    assert names(family="GTX") == ["GTX Basic", "GTX Plus Pro", "GTX Pro"]
    assert names(family="GTX", active="true") == ["GTX Plus Pro", "GTX Pro"]
    assert names(active="false") == ["GTX Basic"]


def test_bad_products_are_400_with_field_messages(admin_user, api_client_for):
    make_product("GTX Pro", "4821")
    client = api_client_for(admin_user)
    cases = [
        ({"name": "GTX Pro"}, "name"),
        ({"name": "GTX Basic", "list_price": "-3"}, "list_price"),
        ({"name": "GTX Basic", "list_price": "lots"}, "list_price"),
        ({"name": "GTX Basic", "currency": "XYZ"}, "currency"),
        ({"family": "GTX"}, "name"),
    ]
    for body, field in cases:
        response = client.post(PRODUCTS, body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert field in str(response.json()), (body, response.json())


def test_the_owner_adds_edits_and_removes_line_items(deal, rep_a, api_client_for):
    gtx = make_product("GTX Pro", "4821", family="GTX")
    client = api_client_for(rep_a)

    added = client.post(
        items_url(deal),
        {"product": gtx.pk, "quantity": "2", "discount_percent": "10"},
        format="json",
    )
    assert added.status_code == 201, added.content
    assert added.json()["total"] == "8677.80"  # 2 x 4821 x 0.9
    deal.refresh_from_db()
    assert deal.amount == Decimal("8677.80")

    item_url = f"{items_url(deal)}{added.json()['id']}/"
    edited = client.patch(item_url, {"unit_price": "4500"}, format="json")
    assert edited.status_code == 200, edited.content
    deal.refresh_from_db()
    assert deal.amount == Decimal("8100.00")
    assert client.get(items_url(deal)).json()["results"][0]["unit_price"] == "4500.00"

    assert client.delete(item_url).status_code == 204
    assert not OpportunityLineItem.objects.exists()
    refused = client.patch(f"/api/v1/opportunities/{deal.pk}/", {"amount": "123"}, format="json")
    assert refused.status_code == 200  # no line items left: the amount is the deal's own


def test_a_deal_with_line_items_refuses_another_amount_in_the_api(deal, rep_a, api_client_for):
    gtx = make_product("GTX Pro", "4821")
    services.line_item_add(actor=rep_a, opportunity=deal, product=gtx)
    response = api_client_for(rep_a).patch(
        f"/api/v1/opportunities/{deal.pk}/", {"amount": "99"}, format="json"
    )
    assert response.status_code == 400
    assert "line items" in response.json()["fields"]["amount"][0]


@pytest.mark.parametrize(
    ("persona", "reads", "writes"),
    [
        ("rep_a", 200, 201),
        ("manager_a", 200, 201),
        ("executive", 200, 201),
        ("admin", 200, 201),
        ("integrator", 200, 201),
        ("rep_b", 404, 404),
        ("manager_b", 404, 404),
    ],
)
def test_line_items_as_every_role(deal, personas, persona, reads, writes, api_client_for):
    gtx = make_product("GTX Pro", "4821")
    client = api_client_for(personas[persona])
    assert client.get(items_url(deal)).status_code == reads
    response = client.post(items_url(deal), {"product": gtx.pk}, format="json")
    assert response.status_code == writes, response.content


def test_a_deal_team_member_works_on_its_line_items(deal, se_a, api_client_for):
    from accounts.models import OpportunityTeamMember

    gtx = make_product("GTX Pro", "4821")
    OpportunityTeamMember.objects.create(opportunity=deal, user=se_a)
    client = api_client_for(se_a)
    assert client.get(items_url(deal)).status_code == 200
    assert client.post(items_url(deal), {"product": gtx.pk}, format="json").status_code == 201


def test_bad_line_items_are_400_with_field_messages(deal, rep_a, admin_user, api_client_for):
    gtx = make_product("GTX Pro", "4821")
    old = make_product("GTX Basic", "550")
    services.product_archive(actor=admin_user, product=old)
    client = api_client_for(rep_a)
    cases = [
        ({"product": gtx.pk, "quantity": "0"}, "quantity"),
        ({"product": gtx.pk, "discount_percent": "150"}, "discount_percent"),
        ({"product": gtx.pk, "unit_price": "-1"}, "unit_price"),
        ({"product": old.pk}, "product"),
        ({"product": 99999999}, "product"),
        ({}, "product"),
    ]
    for body, field in cases:
        response = client.post(items_url(deal), body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert field in str(response.json()), (body, response.json())
    assert client.get("/api/v1/opportunities/abc/line-items/").status_code == 404


def _budget(client, url) -> int:
    client.get(url)  # warm-up: stamps the token's last use
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries.captured_queries)


def test_lists_cost_the_same_for_more_rows(deal, rep_a, api_client_for):
    client = api_client_for(rep_a)
    products = [make_product(f"GTX {n}", "100") for n in range(3)]
    for product in products:
        services.line_item_add(actor=rep_a, opportunity=deal, product=product)
    # products: 1 the token with its user, 2 COUNT(*), 3 the page
    assert _budget(client, PRODUCTS) == 3
    # line items: 1 token, 2 the deal through the visibility selector, 3 COUNT(*), 4 the page
    # with products joined
    assert _budget(client, items_url(deal)) == 4
    for n in range(3, 12):
        product = make_product(f"GTX {n}", "100")
        services.line_item_add(actor=rep_a, opportunity=deal, product=product)
    assert _budget(client, PRODUCTS) == 3
    assert _budget(client, items_url(deal)) == 4
