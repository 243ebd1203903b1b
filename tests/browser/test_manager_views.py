"""A manager in a real browser: the calibration page shows the Brier score with its chart,
the territories page the weekly balance trend chart; no console errors, and no request
leaves the host."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from forecasting.models import OpportunitySnapshot
from territories.models import TerritoryBalanceSnapshot
from tests.browser.conftest import BROWSER_TEST, screenshot
from tests.forecasting.factories import deal, quarter
from tests.territories.factories import TerritoryFactory

pytestmark = BROWSER_TEST


@pytest.fixture
def history(process, rep_a, rep_b, manager_a):
    """Deals of rep_a closed this quarter and last, predicted weekly; NorCal (rep_a's) and
    NewYork (rep_b's) with three recorded weeks of balance."""
    today = timezone.localdate()
    this = quarter(today)
    last = quarter(this.start_on - dt.timedelta(days=1))
    for closed_on, status, p in (
        (last.start_on + dt.timedelta(days=30), "won", 0.7),
        (last.start_on + dt.timedelta(days=40), "lost", 0.4),
        (this.start_on, "won", 0.8),
    ):
        opp = deal(rep_a, 1000, close_on=closed_on, status=status)
        OpportunitySnapshot.objects.create(
            opportunity=opp,
            taken_on=closed_on - dt.timedelta(days=7),
            owner=rep_a,
            amount=opp.amount,
            expected_close_on=closed_on,
            category="pipeline",
            probability=p,
        )
    norcal = TerritoryFactory(name="NorCal", owner=rep_a)
    newyork = TerritoryFactory(name="NewYork", owner=rep_b)
    monday = today - dt.timedelta(days=today.weekday() + 21)
    for week in range(3):
        for territory, index in ((norcal, 1.0 + 0.1 * week), (newyork, 0.9)):
            TerritoryBalanceSnapshot.objects.create(
                territory=territory,
                week_start=monday + dt.timedelta(weeks=week),
                balance_index=Decimal(str(index)),
                band=Decimal("0.10"),
                is_flagged=abs(index - 1) > 0.1,
            )


@pytest.fixture
def watched(page, live_server):
    """Console errors, page errors, failed loads and requests to other hosts, collected as
    the page runs."""
    problems: list[str] = []
    host = urlsplit(live_server.url).netloc

    def console(msg):
        # A failed load is reported by URL below (the console's message has none).
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            problems.append(msg.text)

    def failed(response):
        if response.status >= 400:
            problems.append(f"{response.status} {response.url}")

    page.on("console", console)
    page.on("response", failed)
    page.on("pageerror", lambda error: problems.append(str(error)))

    def off_host(request):
        url = urlsplit(request.url)
        if url.scheme in ("http", "https") and url.netloc != host:
            problems.append(f"left the host: {request.url}")

    page.on("request", off_host)
    return problems


def test_manager_sees_the_brier_score_and_the_balance_trend(
    login, page, watched, history, manager_a
):
    login(manager_a)

    page.goto("/forecast/calibration/")
    brier = page.get_by_test_id("brier")
    brier.get_by_role("heading", name="Brier score").wait_for()
    overall = brier.get_by_test_id("brier-overall").inner_text()
    brier.locator(".plotly-graph-div .main-svg").first.wait_for()  # the chart is drawn
    screenshot(page, "manager-calibration")

    # (0.3² + 0.4² + 0.2²) / 3 predictions
    assert float(overall) == pytest.approx((0.09 + 0.16 + 0.04) / 3, abs=0.001)
    assert "Brier score by quarter of close" in brier.inner_text()

    page.goto("/territories/")
    trend = page.get_by_test_id("balance-trend")
    trend.get_by_role("heading", name="Balance trend").wait_for()
    trend.locator(".plotly-graph-div .main-svg").first.wait_for()
    screenshot(page, "manager-territories-trend")

    assert "NorCal" in trend.inner_text()  # the chart's legend
    assert "NewYork" not in trend.inner_text()  # manager_b's territory
    assert watched == []
