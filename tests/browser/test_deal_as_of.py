"""In a real browser: a rep logs a call against one of the deal's milestones from rep home and
from the deal page, sees it under that milestone, then views the deal as of an earlier date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import urlparse

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import Activity
from tests.browser.conftest import BROWSER_TEST, screenshot
from tests.factories import AccountFactory

pytestmark = BROWSER_TEST


@pytest.fixture
def globex(process, rep_a):
    """Opened for 1,000 twelve days ago, "Qualify #2" done ten days ago; worth 4,000 since
    three days ago."""
    now = timezone.now()
    deal = services.opportunity_create(
        actor=rep_a,
        account=AccountFactory(owner=rep_a, name="Globex"),
        name="Globex renewal",
        amount=Decimal(1000),
        expected_close_on=timezone.localdate() + dt.timedelta(days=60),
        at=now - dt.timedelta(days=12),
    )
    services.milestone_complete(
        actor=rep_a,
        opportunity=deal,
        milestone=process.stages.get(name="Qualify").milestones.get(name="Qualify #2"),
        evidence="Signed mutual plan",
        at=now - dt.timedelta(days=10),
    )
    services.opportunity_update(
        actor=rep_a, opportunity=deal, amount=Decimal(4000), at=now - dt.timedelta(days=3)
    )
    return deal


def watch(page, live_server_url: str) -> tuple[list[str], list[str]]:
    """Console errors and requests to any other host, collected while the test runs."""
    errors: list[str] = []
    outside: list[str] = []
    host = urlparse(live_server_url).netloc

    def on_console(message) -> None:
        where = (message.location or {}).get("url", "")
        if message.type == "error":
            errors.append(f"{message.text} ({where})")

    page.on("console", on_console)
    page.on(
        "request",
        lambda request: (
            urlparse(request.url).netloc not in ("", host) and outside.append(request.url)
        ),
    )
    return errors, outside


def test_rep_logs_a_call_against_a_milestone_then_views_the_deal_as_of_an_earlier_date(
    login, page, live_server, globex, rep_a
):
    errors, outside = watch(page, live_server.url)
    login(rep_a)

    # From rep home: the popover's milestone choice, on a phone-sized screen
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(reverse("accounts:rep_home"))
    row = page.locator("tr", has_text="Globex renewal")
    row.locator("summary", has_text="Log call").click()
    row.locator("select[name=milestone]").select_option(label="Qualify #1")
    row.locator("textarea[name=notes]").fill("Confirmed budget owner")
    screenshot(page, "rep_home_log_call_with_milestone_phone")
    row.locator("button", has_text="Save").click()
    page.wait_for_load_state()
    assert page.get_by_text("Call logged on Globex renewal against “Qualify #1”.").count() == 1
    screenshot(page, "rep_home_milestone_call_phone")

    # On the deal page: log a meeting against another milestone
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(reverse("accounts:opportunity_detail", args=[globex.pk]))
    form = page.locator("#log")
    form.get_by_label("Kind").select_option("meeting")
    form.get_by_label("Milestone it advanced").select_option(label="Discover #1")
    form.get_by_label("Notes").fill("Mapped the buying committee")
    form.get_by_role("button", name="Log it").click()
    page.wait_for_load_state()
    assert page.get_by_text("Meeting logged on Globex renewal against “Discover #1”.").count() == 1

    # Each call shows under the milestone it advanced
    groups = page.get_by_test_id("milestone-activities")
    assert groups.count() == 2
    assert "Qualify #1" in groups.nth(0).inner_text()
    assert "Confirmed budget owner" in groups.nth(0).inner_text()
    assert "Mapped the buying committee" in groups.nth(1).inner_text()
    assert {a.milestone.name for a in Activity.objects.select_related("milestone")} == {
        "Qualify #1",
        "Discover #1",
    }

    # The deal as it stood a week ago: 1,000, not today's 4,000
    week_ago = timezone.localdate() - dt.timedelta(days=7)
    page.locator("#as-of input[name=as_of]").fill(week_ago.isoformat())
    page.locator("#as-of").get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    facts = page.get_by_test_id("as-of-facts")
    assert (
        f"As it stood on {week_ago:%b} {week_ago.day}, {week_ago.year}"
        in page.locator("#as-of-title").inner_text()
    )
    assert "1,000.00 USD" in facts.inner_text()
    assert "4,000.00" not in facts.inner_text()
    assert "Qualify #2" in facts.inner_text()  # completed ten days ago
    screenshot(page, "deal_as_of")

    # Before the deal existed: said plainly
    page.locator("#as-of input[name=as_of]").fill(
        (timezone.localdate() - dt.timedelta(days=30)).isoformat()
    )
    page.locator("#as-of").get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    assert "did not exist yet" in page.get_by_test_id("as-of-not-yet").inner_text()

    assert errors == []
    assert outside == []


def test_manager_reads_a_past_weeks_forecast_from_its_snapshot(
    login, page, live_server, process, rep_a, manager_a
):
    # Given a snapshot taken last week, when rep_a's deal was worth 1,000 (3,000 now)
    from forecasting.services import snapshots
    from tests.forecasting.factories import deal, quarter

    today = timezone.localdate()
    last_week = today - dt.timedelta(days=7)
    period = quarter(today)
    close_on = max(today, period.start_on) + dt.timedelta(days=1)
    if close_on > period.end_on:
        close_on = period.end_on
    globex = deal(rep_a, 1000, close_on=close_on, category="commit")
    snapshots.snapshot_take(on=last_week)
    globex.amount = Decimal(3000)
    globex.save(update_fields=["amount"])
    errors, outside = watch(page, live_server.url)
    login(manager_a)

    page.goto(f"{reverse('forecasting:forecast')}?period={period.pk}")
    page.locator("#week input[name=week]").fill(last_week.isoformat())
    page.locator("#week").get_by_role("button", name="Show week").click()
    page.wait_for_load_state()

    figures = page.get_by_test_id("week-figures")
    assert str(rep_a) in figures.inner_text()
    assert "1,000" in figures.inner_text()
    assert "3,000" not in figures.inner_text()
    # On a phone the week's table scrolls inside its own box
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    box = page.locator("#week .table-scroll").bounding_box()
    assert box is not None
    assert box["width"] <= 390
    screenshot(page, "forecast_past_week_phone")

    # A week without a snapshot says so
    page.locator("#week input[name=week]").fill((today - dt.timedelta(days=70)).isoformat())
    page.locator("#week").get_by_role("button", name="Show week").click()
    page.wait_for_load_state()
    assert "No snapshot was taken" in page.get_by_test_id("no-snapshot").inner_text()

    assert errors == []
    assert outside == []
