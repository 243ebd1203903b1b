"""Win rate and revenue by product (page, API, selector) equal a hand computation over the
same deals, per node of the hierarchy, with a query count that does not grow with deals."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import services
from forecasting.selectors.products import product_figures
from tests.accounts.products import make_product
from tests.factories import AccountFactory, ExchangeRateFactory, complete_closing_milestones

CENT = Decimal("0.01")
EUR_RATE = Decimal("1.10")

# (owner, status, close day offset in FY2026 Q1, currency, [(product, qty, price, discount)])
# status: won/lost (closed that day), open (expected that day), omitted (open, left out),
# later (won in Q2: outside the period).
DEALS = [
    ("rep_a", "won", 5, "USD", [("GTX Pro", 2, "4821", 0), ("MG Special", 10, "55", 10)]),
    ("rep_b", "won", 12, "USD", [("GTX Pro", 1, "4500", "5")]),
    ("rep_a", "lost", 20, "USD", [("GTX Pro", 1, "4821", 0)]),
    ("rep_b", "lost", 33, "USD", [("MG Special", 3, "55", 0), ("MG Special", 1, "50", 0)]),
    ("rep_a", "open", 70, "USD", [("GTX Plus Pro", 1, "5482", 0)]),
    ("rep_a", "won", 41, "EUR", [("GTX Plus Pro", 2, "5000", "2.5")]),
    ("rep_b", "omitted", 60, "USD", [("GTX Pro", 4, "4821", 0)]),
    ("rep_a", "later", 100, "USD", [("GTX Pro", 9, "4821", 0)]),
    ("rep_b", "won", 15, "USD", []),  # no line items: in no product
]
PRICES = {"GTX Pro": "4821", "GTX Plus Pro": "5482", "MG Special": "55"}


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def hand_figures(owners: set[str]) -> dict[str, dict]:
    """The figures by hand: distinct deals per product, line totals rounded, EUR x 1.10."""
    out: dict[str, dict] = defaultdict(
        lambda: {"won": 0, "lost": 0, "won_amount": Decimal(0), "open": 0, "pipeline": Decimal(0)}
    )
    for owner, status, _, currency, lines in DEALS:
        if owner not in owners or status in ("omitted", "later"):
            continue
        rate = EUR_RATE if currency == "EUR" else Decimal(1)
        per_product: dict[str, Decimal] = defaultdict(Decimal)
        for product, qty, price, discount in lines:
            exact = Decimal(qty) * Decimal(price) * (1 - Decimal(discount) / 100)
            per_product[product] += money(exact)
        for product, value in per_product.items():
            row = out[product]
            if status == "won":
                row["won"] += 1
                row["won_amount"] += money(value * rate)
            elif status == "lost":
                row["lost"] += 1
            else:
                row["open"] += 1
                row["pipeline"] += money(value * rate)
    return dict(out)


@pytest.fixture
def world(q1, personas, process):
    ExchangeRateFactory(currency="EUR", rate_to_reporting=EUR_RATE)
    products = {name: make_product(name, price) for name, price in PRICES.items()}
    for number, (owner_name, status, offset, currency, lines) in enumerate(DEALS):
        owner = personas[owner_name]
        day = q1.start_on + dt.timedelta(days=offset)
        deal = services.opportunity_create(
            actor=owner,
            account=AccountFactory(owner=owner, name=f"Kinetic Systems {number}"),
            name=f"Deal {number}",
            amount=Decimal(1000),
            currency=currency,
            expected_close_on=day,
        )
        for product, qty, price, discount in lines:
            services.line_item_add(
                actor=owner,
                opportunity=deal,
                product=products[product],
                quantity=Decimal(qty),
                unit_price=Decimal(price),
                discount_percent=Decimal(discount),
            )
        if status in ("won", "later"):
            complete_closing_milestones(deal)
            services.opportunity_close_won(actor=owner, opportunity=deal, closed_on=day)
        elif status == "lost":
            services.opportunity_close_lost(
                actor=owner, opportunity=deal, lost_reason="Chose a rival", closed_on=day
            )
        elif status == "omitted":
            services.opportunity_update(actor=owner, opportunity=deal, forecast_category="omitted")
    return products


def as_dicts(figures) -> dict[str, dict]:
    return {
        f.name: {
            "won": f.won_count,
            "lost": f.lost_count,
            "won_amount": f.won_amount,
            "open": f.open_count,
            "pipeline": f.pipeline_amount,
        }
        for f in figures
    }


@pytest.mark.parametrize(
    ("node", "owners"),
    [(None, {"rep_a", "rep_b"}), ("executive", {"rep_a", "rep_b"}), ("manager_a", {"rep_a"})],
)
def test_figures_by_product_equal_a_hand_computation(world, q1, personas, node, owners):
    figures = product_figures(period=q1, node=personas[node] if node else None)

    assert as_dicts(figures) == hand_figures(owners)


def test_win_rate_and_order(world, q1):
    figures = product_figures(period=q1, node=None)
    by_name = {f.name: f for f in figures}
    assert by_name["GTX Pro"].win_rate == pytest.approx(2 / 3, abs=1e-4)
    assert by_name["MG Special"].win_rate == 0.5
    assert by_name["GTX Plus Pro"].win_rate == 1.0
    # best sellers first: won revenue
    assert [f.name for f in figures] == ["GTX Pro", "GTX Plus Pro", "MG Special"]


def test_the_forecast_page_shows_the_by_product_table(client, world, q1, personas):
    client.force_login(personas["manager_a"])
    page = client.get(reverse("forecasting:forecast"), {"period": q1.pk}).content.decode()
    section = page[page.index('id="by-product"') :]
    expected = hand_figures({"rep_a"})
    assert "MG Special" in section
    assert f"{expected['GTX Pro']['won_amount']:,.0f}" in section
    assert "GTX Plus Pro" in section


def test_the_api_answers_per_node_with_a_fixed_number_of_queries(
    world, q1, personas, api_client_for
):
    url = reverse("product-kpis")
    manager = api_client_for(personas["manager_a"])
    manager.get(url, {"period": q1.pk})  # warm-up: stamps the token's last use
    with CaptureQueriesContext(connection) as queries:
        body = manager.get(url, {"period": q1.pk}).json()
    # 1 the token with its user, 2 the period, 3 the line items grouped by product, status,
    # currency and day (the node a WHERE clause), 4 the exchange rates, 5 the company settings
    # (the reporting currency)
    assert len(queries.captured_queries) == 5
    rows = {row["name"]: row for row in body["results"]}
    expected = hand_figures({"rep_a"})
    assert set(rows) == set(expected)
    assert Decimal(rows["GTX Plus Pro"]["won_amount"]) == expected["GTX Plus Pro"]["won_amount"]
    assert Decimal(rows["GTX Plus Pro"]["pipeline_amount"]) == expected["GTX Plus Pro"]["pipeline"]

    # more deals, same queries
    rep = personas["rep_a"]
    for number in range(5):
        deal = services.opportunity_create(
            actor=rep,
            account=AccountFactory(owner=rep, name=f"Harbor Logistics {number}"),
            name=f"More {number}",
            amount=Decimal(1),
            expected_close_on=q1.start_on + dt.timedelta(days=number + 1),
        )
        services.line_item_add(actor=rep, opportunity=deal, product=world["MG Special"])
    with CaptureQueriesContext(connection) as queries:
        assert manager.get(url, {"period": q1.pk}).status_code == 200
    assert len(queries.captured_queries) == 5


def test_the_api_refuses_what_the_caller_cannot_see(world, q1, personas, api_client_for):
    rep = api_client_for(personas["rep_a"])
    url = reverse("product-kpis")
    assert rep.get(url, {"period": q1.pk, "person": personas["rep_b"].pk}).status_code == 404
    assert rep.get(url, {"period": "abc"}).status_code == 400
    own = rep.get(url, {"period": q1.pk}).json()["results"]
    assert {row["name"] for row in own} == set(hand_figures({"rep_a"}))
    integrator = api_client_for(personas["integrator"]).get(url, {"period": q1.pk}).json()
    assert {row["name"] for row in integrator["results"]} == set(hand_figures({"rep_a", "rep_b"}))
