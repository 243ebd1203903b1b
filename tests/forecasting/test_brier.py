"""The Brier score of the weekly probabilities by quarter of close: the formula, the page and
the API."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from forecasting.analytics import probability
from forecasting.models import OpportunitySnapshot
from salesmgmt.models import Period
from tests.forecasting.factories import deal, quarter

QUARTERS = pd.DataFrame(
    {
        "period_id": [1, 2, 3],
        "name": ["Q1", "Q2", "Q3"],
        "start_on": [dt.date(2030, 1, 1), dt.date(2030, 4, 1), dt.date(2030, 7, 1)],
        "end_on": [dt.date(2030, 3, 31), dt.date(2030, 6, 30), dt.date(2030, 9, 30)],
    }
)


def test_brier_by_period_sums_squared_errors_over_looks():
    daily = pd.DataFrame(
        {
            # Q1: (0.5)² + (0.5)² over 2 looks; plus 0.1 over 2 looks -> 0.6 / 4
            "closed_on": [dt.date(2030, 1, 5), dt.date(2030, 3, 31), dt.date(2030, 5, 1)],
            "squared_error": [0.5, 0.1, 0.04],
            "looks": [2, 2, 4],
            "deals": [1, 1, 2],
        }
    )

    trend = probability.brier_by_period(daily, QUARTERS)

    assert trend["name"].tolist() == ["Q1", "Q2"]  # Q3 has no looks: left out
    assert trend["brier"].tolist() == pytest.approx([0.15, 0.01])
    assert trend["looks"].tolist() == [4, 4]
    assert trend["deals"].tolist() == [2, 2]
    assert pd.isna(trend.loc[0, "change"])
    assert trend.loc[1, "change"] == pytest.approx(-0.14)  # better
    assert probability.overall_brier(trend) == pytest.approx(0.64 / 8)


def test_closes_outside_the_quarters_are_left_out():
    daily = pd.DataFrame(
        {"closed_on": [dt.date(2029, 12, 31)], "squared_error": [1.0], "looks": [1], "deals": [1]}
    )

    assert probability.brier_by_period(daily, QUARTERS).empty
    assert probability.overall_brier(probability.brier_by_period(daily, QUARTERS)) is None


def _snapshot(opp, taken_on, p):
    OpportunitySnapshot.objects.create(
        opportunity=opp,
        taken_on=taken_on,
        owner=opp.owner,
        amount=opp.amount,
        expected_close_on=opp.expected_close_on,
        category="pipeline",
        probability=p,
    )


@pytest.fixture
def predictions(rep_a, rep_b, today):
    """Deals closed last quarter and this one, each predicted weekly while open."""
    this = quarter(today)
    last = quarter(this.start_on - dt.timedelta(days=1))
    closed_last = last.start_on + dt.timedelta(days=20)
    won = deal(rep_a, 100, close_on=closed_last, status="won")
    lost = deal(rep_b, 100, close_on=closed_last, status="lost")
    _snapshot(won, closed_last - dt.timedelta(days=7), 0.6)  # (0.4)² = 0.16
    _snapshot(lost, closed_last - dt.timedelta(days=7), 0.6)  # (0.6)² = 0.36
    _snapshot(lost, closed_last + dt.timedelta(days=7), 0.1)  # after the close: not counted
    closed_now = this.start_on
    better = deal(rep_a, 100, close_on=closed_now, status="won")
    _snapshot(better, closed_now - dt.timedelta(days=7), 0.9)  # (0.1)² = 0.01
    _snapshot(better, closed_now, 0.8)  # (0.2)² = 0.04
    open_deal = deal(rep_a, 100, close_on=today + dt.timedelta(days=5))
    _snapshot(open_deal, today, 0.5)  # still open: no outcome yet
    return {"last": last, "this": this}


def test_calibration_page_shows_the_brier_score_and_its_change(client, manager_a, predictions):
    client.force_login(manager_a)

    response = client.get(reverse("forecasting:calibration"))

    body = response.content.decode()
    assert response.status_code == 200
    brier = response.context["brier"]
    assert brier.overall == pytest.approx((0.16 + 0.36 + 0.01 + 0.04) / 4)
    assert brier.latest == pytest.approx(0.025)
    assert brier.change == pytest.approx(0.025 - 0.26)
    assert 'data-testid="brier-overall"' in body
    assert 'data-testid="brier-overall">0.14' in body  # overall, 3 decimals
    assert "Brier score by quarter of close" in body  # the chart


def test_calibration_page_without_closed_predictions_says_so(client, manager_a, period):
    client.force_login(manager_a)

    body = client.get(reverse("forecasting:calibration")).content.decode()

    assert "No closed deal has a weekly probability yet" in body


def test_brier_queries_do_not_grow_with_the_snapshots(manager_a, predictions, rep_a):
    from forecasting.selectors.calibration import brier_summary

    with CaptureQueriesContext(connection) as before:
        brier_summary(today=predictions["this"].start_on)
    for i in range(5):
        opp = deal(rep_a, 100, close_on=predictions["last"].end_on, status="won")
        _snapshot(opp, predictions["last"].start_on + dt.timedelta(days=i), 0.7)

    with CaptureQueriesContext(connection) as after:
        brier_summary(today=predictions["this"].start_on)

    # the quarters (1), the snapshots' squared errors grouped by close day (1)
    assert len(before.captured_queries) == len(after.captured_queries) == 2


def test_calibration_api_has_the_brier_trend_with_etag(manager_a, predictions):
    api = APIClient()
    api.force_authenticate(manager_a)

    response = api.get("/api/v1/forecast-calibration/")

    body = response.json()
    assert response.status_code == 200
    assert body["brier"]["overall"] == pytest.approx(0.1425)
    quarters = body["brier"]["quarters"]
    assert [q["period"] for q in quarters] == [predictions["last"].pk, predictions["this"].pk]
    assert quarters[0]["change"] is None
    assert quarters[1]["change"] == pytest.approx(-0.235)
    assert body["buckets"] == []
    cached = api.get("/api/v1/forecast-calibration/", HTTP_IF_NONE_MATCH=response["ETag"])
    assert cached.status_code == 304


def test_periods_used_are_quarters_only(predictions):
    assert Period.objects.filter(kind=Period.Kind.MONTH).exists()  # months exist, not counted
