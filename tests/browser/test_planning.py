"""An executive plans the sales force in a real browser: the sales task, both sizings with
the chart, then a what-if saved as a scenario and shown beside the plan."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from planning import services
from salesmgmt.services import periods_ensure
from tests.browser.conftest import BROWSER_TEST, screenshot
from tests.factories import AccountFactory
from tests.territories.factories import TerritoryFactory

pytestmark = BROWSER_TEST


@pytest.fixture
def sales_task(executive, rep_a):
    AccountFactory.create_batch(2, owner=rep_a, employee_count=5000)
    AccountFactory.create_batch(3, owner=rep_a, employee_count=200)
    enterprise = services.segment_create(
        actor=executive, name="Enterprise", priority=10, employee_count_min=1000
    )
    mid = services.segment_create(actor=executive, name="Mid-market", priority=20)
    for segment, activities, hours in ((enterprise, 30, 10), (mid, 100, 4)):
        services.coverage_set(
            actor=executive, segment=segment, sales_role="ae",
            activities_per_account=Decimal(activities), hours_per_activity=Decimal(hours),
        )  # fmt: skip
    services.role_capacity_set(actor=executive, sales_role="ae", selling_hours=Decimal(1000))


def test_executive_sizes_the_sales_force_and_saves_a_scenario(as_user, executive, sales_task):
    page = as_user(executive)
    page.goto("/planning/")
    page.get_by_role("heading", name="Plan the sales force").wait_for()
    assert "Enterprise" in page.locator("#segments").text_content()
    page.locator(".plotly-graph-div .main-svg").first.wait_for()  # the chart is drawn
    # (2 x 30 x 10 + 3 x 100 x 4) h / 1000 h = 1.80 AE FTE.
    assert "1.80" in page.locator("#sizing").inner_text()

    form = page.locator("#scenario-form")
    form.get_by_label("Name").fill("Lean")
    form.get_by_label("Target").fill("1000000")
    form.get_by_label("Selling hours a year (every role)").fill("600")
    form.get_by_role("button", name="Save scenario").click()
    page.locator("#scenarios").wait_for()
    screenshot(page, "executive-plan")

    assert "Lean" in page.locator("#scenarios").text_content()
    # 1800 h / 600 h = 3 AEs in the scenario's column.
    header = page.locator("#sizing thead").text_content()
    assert "Lean: people" in header
    ae_row = page.locator("#sizing tbody tr").filter(has_text="AE").first.inner_text()
    assert "3.00" in ae_row


def test_executive_plans_hires_and_reads_capacity_by_month(as_user, executive, sales_task):
    page = as_user(executive)
    page.goto("/planning/")
    form = page.locator("#hire-form")
    form.get_by_label("Sales role").select_option("ae")
    form.get_by_label("Start month").fill("2026-09-14")
    form.get_by_label("Region").fill("West")
    form.get_by_label("Headcount").fill("2")
    form.get_by_role("button", name="Plan hires").click()
    page.locator("#hires").get_by_text("Sep 2026").wait_for()
    assert page.locator("#capacity tbody tr").count() == 12
    page.locator("#hiring-title ~ .chart .plotly-graph-div .main-svg").first.wait_for()
    screenshot(page, "executive-hiring-plan")


def test_executive_defines_a_segment_and_its_coverage(as_user, executive, rep_a):
    AccountFactory.create_batch(3, owner=rep_a, industry="Retail")
    page = as_user(executive)
    page.goto("/planning/")
    segment = page.locator("#segment-form")
    segment.get_by_label("Name").fill("Retail")
    segment.get_by_label("Industries").fill("Retail")
    segment.get_by_role("button", name="Add segment").click()
    page.locator("#segments").wait_for()
    coverage = page.locator("#coverage-form")
    coverage.get_by_label("Segment").select_option(label="Retail")
    coverage.get_by_label("Sales role").select_option("am")
    coverage.get_by_label("Activities per account").fill("10")
    coverage.get_by_label("Hours per activity").fill("2")
    coverage.get_by_role("button", name="Save coverage").click()
    page.locator("#workload").get_by_text("Retail").wait_for()
    # 3 accounts x 10 x 2 h = 60 h of AM time.
    assert "60" in page.locator("#workload").text_content()


def test_planner_marks_a_planned_hire_hired_and_sees_the_ramped_quota(
    as_user, executive, manager_a, rep_b
):
    # No history and no ramp schedule: the standard 25/50/75/100 % from the hire month (the
    # one allocation uses). Hired 10 Feb 2030 at 120 000 a year: Q1 Jan 0 + Feb 0.25 +
    # Mar 0.5 = 0.75 months; Q2 0.75 + 1 + 1 = 2.75; 3.5 months x 10 000 = 35 000.
    periods_ensure(year=2030)
    territory = TerritoryFactory(owner=rep_b, name="West Coast")
    hire = services.planned_hire_create(
        actor=executive, sales_role="ae", start_month=dt.date(2030, 1, 1), region="West"
    )
    page = as_user(executive)
    page.goto("/planning/")
    page.locator("#hires").get_by_role("link", name="Mark hired").click()
    page.get_by_role("heading", name="Mark hired: Account executive from Jan 2030").wait_for()
    form = page.locator("#mark-hired-form")
    form.get_by_label("First name").fill("Nia")
    form.get_by_label("Last name").fill("Okafor")
    form.get_by_label("Email").fill("nia@example.com")
    form.get_by_label("Start date").fill("2030-02-10")
    form.get_by_label("Manager").select_option(str(manager_a.pk))
    form.get_by_label("Territory").select_option(label=territory.name)
    form.get_by_label("Ramped quota a year").fill("120000")
    form.get_by_role("button", name="Mark hired").click()

    row = page.locator("#actual-hires tbody tr").filter(has_text="Nia Okafor")
    row.wait_for()
    screenshot(page, "planner-hired")
    assert "35,000.00" in row.inner_text()
    assert "Nia Okafor" in page.locator("#hires").inner_text()
    hire.refresh_from_db()
    territory.refresh_from_db()
    assert territory.owner == hire.hired_user

    # Hiring the same seat again: the page says so.
    page.goto(f"/planning/hires/{hire.pk}/hire/")
    assert "Already filled by Nia Okafor" in page.locator("#hire-title ~ p").first.inner_text()


def test_planner_edits_a_segment_and_role_capacity(as_user, executive, sales_task):
    page = as_user(executive)
    page.goto("/planning/")
    page.locator("#segments").get_by_role("link", name="Enterprise").click()
    form = page.locator("#segment-edit-form")
    form.get_by_label("Name").fill("Large enterprise")
    form.get_by_role("button", name="Save segment").click()
    page.locator("#segments").get_by_text("Large enterprise").wait_for()

    page.get_by_role("link", name="Role capacity").click()
    row = page.locator("#role-ae")
    row.get_by_label("Selling hours a year").fill("900")
    row.get_by_role("button", name="Save Account executive").click()
    page.locator("#role-ae").get_by_text("900.0").wait_for()
    page.goto("/planning/")
    # (2 x 30 x 10 + 3 x 100 x 4) h / 900 h = 2.00 AE FTE.
    assert "2.00" in page.locator("#sizing").inner_text()
