"""The weekly balance monitor's rows as a trend chart on the territories page, within the
viewer's territories, at a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from territories import selectors
from territories.models import TerritoryBalanceSnapshot

MONDAY = dt.date(2026, 9, 7)


def record(territory, week_start, index, *, flagged=False):
    return TerritoryBalanceSnapshot.objects.create(
        territory=territory,
        week_start=week_start,
        balance_index=Decimal(index),
        band=Decimal("0.10"),
        is_flagged=flagged,
    )


@pytest.fixture
def weeks(territory_map):
    """Three recorded weeks: NorCal drifts out of the band, NewYork stays balanced."""
    for i, index in enumerate(("1.05", "1.12", "1.30")):
        week = MONDAY + dt.timedelta(weeks=i)
        record(territory_map["norcal"], week, index, flagged=index != "1.05")
        record(territory_map["newyork"], week, "0.95")
    return territory_map


def test_manager_sees_the_trend_of_their_territories_only(client, manager_a, weeks):
    client.force_login(manager_a)

    response = client.get(reverse("territories:overview"))

    body = response.content.decode()
    trend = response.context["trend"]
    assert response.status_code == 200
    assert set(trend.rows["name"]) == {"NorCal"}  # not NewYork (manager_b's)
    assert [w["week_start"] for w in trend.weeks] == [
        MONDAY + dt.timedelta(weeks=2),
        MONDAY + dt.timedelta(weeks=1),
        MONDAY,
    ]
    assert [w["flagged"] for w in trend.weeks] == [1, 1, 0]
    assert 'data-testid="balance-trend"' in body
    assert "Balance index by week" in body  # the plotly chart
    assert "NewYork" not in response.context["trend_chart"]


def test_executive_sees_every_territory_in_the_trend(client, executive, weeks):
    client.force_login(executive)

    trend = client.get(reverse("territories:overview")).context["trend"]

    assert set(trend.rows["name"]) == {"NorCal", "NewYork"}


def test_without_recorded_weeks_the_page_says_so(client, manager_a, territory_map):
    client.force_login(manager_a)

    body = client.get(reverse("territories:overview")).content.decode()

    assert "No weekly balance recorded yet" in body


def test_only_the_latest_weeks_are_shown(weeks):
    for i in range(3, 20):
        record(weeks["norcal"], MONDAY + dt.timedelta(weeks=i), "1.00")
    from territories.selectors.balance_trend import TREND_WEEKS
    from tests.factories import UserFactory

    trend = selectors.balance_trend(viewer=UserFactory(role="executive"))

    assert trend.rows["week_start"].nunique() == TREND_WEEKS
    assert trend.rows["week_start"].max() == MONDAY + dt.timedelta(weeks=19)


@pytest.mark.parametrize("more", [0, 12])
def test_trend_queries_do_not_grow_with_weeks_or_territories(
    django_assert_num_queries, executive, weeks, more
):
    for i in range(3, 3 + more):
        for key in ("norcal", "socal", "newyork"):
            record(weeks[key], MONDAY + dt.timedelta(weeks=i), "1.00")

    # the recorded weeks (1), their rows of visible territories (1)
    with django_assert_num_queries(2):
        selectors.balance_trend(viewer=executive)
