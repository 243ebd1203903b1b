"""The feed-back report in a real browser: an executive chooses a period, reads the rows by
segment, product and lead source against the plan, and downloads the CSV; a manager reads the
same page for their team's deals."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from accounts.models import Opportunity, OpportunityLineItem, Product
from planning import services
from tests.browser.conftest import BROWSER_TEST, screenshot
from tests.factories import AccountFactory, OpportunityFactory

pytestmark = BROWSER_TEST


@pytest.fixture
def closed_deals(executive, rep_a, rep_b, q1, q2, process):
    """Q1: rep_a wins an Enterprise deal (Platform, from a webinar) and loses another; rep_b
    wins a deal on an account in no segment, with no product and no lead source."""
    enterprise = services.segment_create(
        actor=executive, name="Enterprise", priority=10, employee_count_min=1000
    )
    services.coverage_set(
        actor=executive, segment=enterprise, sales_role="ae", activities_per_account=Decimal(12),
        win_rate=Decimal("0.25"), deal_size=Decimal(20000), cycle_days=60,
    )  # fmt: skip
    big = AccountFactory(owner=rep_a, employee_count=5000)
    small = AccountFactory(owner=rep_b, employee_count=20)
    platform = Product.objects.create(name="Platform", list_price=Decimal(1000))
    day = q1.start_on + dt.timedelta(days=30)
    won, lost = Opportunity.Status.WON, Opportunity.Status.LOST
    for owner, account, status, amount, source in (
        (rep_a, big, won, 12000, "Webinar"), (rep_a, big, lost, 8000, "Webinar"),
        (rep_b, small, won, 3000, ""),
    ):  # fmt: skip
        deal = OpportunityFactory(
            owner=owner, account=account, status=status, amount=Decimal(amount),
            lead_source=source, closed_on=day, expected_close_on=day,
            created_at=dt.datetime.combine(q1.start_on, dt.time(9), tzinfo=dt.UTC),
        )  # fmt: skip
        if amount == 12000:
            OpportunityLineItem.objects.create(
                opportunity=deal, product=platform, unit_price=Decimal(12000)
            )
    return q1


def test_executive_chooses_a_period_reads_the_rows_and_downloads_the_csv(
    as_user, executive, closed_deals, q2
):
    page = as_user(executive)
    page.goto(f"/planning/feedback/?period={q2.pk}")
    page.get_by_role("heading", name="Win/loss and productivity").wait_for()
    assert f"No deal closed in {q2.name}." in page.content()

    page.locator("#feedback-period").get_by_label("Period").select_option(label=closed_deals.name)
    page.locator("#feedback-period").get_by_role("button", name="Show").click()
    page.locator("#feedback-segment").wait_for()
    segments = page.locator("#feedback-segment").text_content()
    assert "Enterprise" in segments
    assert "Unassigned" in segments
    assert "50%" in page.locator("#feedback-segment tr", has_text="Enterprise").text_content()
    assert "(none)" in page.locator("#feedback-product").text_content()
    assert "Webinar" in page.locator("#feedback-lead_source").text_content()
    # The plan's 25 % against the actual 50 %.
    assumptions = page.locator("#feedback-assumptions").text_content()
    assert "25% / 50%" in assumptions
    page.locator(".plotly-graph-div .main-svg").first.wait_for()
    screenshot(page, "executive-feedback")

    with page.expect_download() as download_info:
        page.locator("#feedback-csv").click()
    download = download_info.value
    with open(download.path(), encoding="utf-8") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read())))
    total = next(row for row in rows if row["dimension"] == "total")
    assert (total["won"], total["lost"], total["won_value"]) == ("2", "1", "15000.0")
    assert {row["key"] for row in rows if row["dimension"] == "segment"} == {
        "Enterprise",
        "Unassigned",
    }


def test_a_manager_reads_their_teams_deals(as_user, manager_a, closed_deals):
    page = as_user(manager_a)
    page.goto("/")
    page.get_by_role("link", name="Feed back").first.click()
    page.locator("#feedback-period").get_by_label("Period").select_option(label=closed_deals.name)
    page.locator("#feedback-period").get_by_role("button", name="Show").click()
    page.locator("#feedback-segment").wait_for()
    assert "Unassigned" not in page.locator("#feedback-segment").text_content()  # rep_b's deal
