"""The three personas in a real browser: each lands on their dashboard and sees only their
data; a rep logs a call and completes a milestone; a manager records a review and a debrief."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Activity, MilestoneCompletion
from coaching.models import ActionItem, CallDebrief, EvidenceState, OpportunityScore
from forecasting.models import CallOfRecord, ForecastCall
from tests.browser.conftest import BROWSER_TEST, quiet_refresh, screenshot
from tests.coaching.factories import current_quarter, kpi, rollup
from tests.factories import AccountFactory, OpportunityFactory

pytestmark = BROWSER_TEST


@pytest.fixture
def org(process, rep_a, se_a, rep_b, manager_a, manager_b, executive):
    """A deal per rep in the current quarter, with forecast rollups for the dashboards."""
    with quiet_refresh():
        return _org(rep_a, se_a, rep_b, manager_a, manager_b)


def _org(rep_a, se_a, rep_b, manager_a, manager_b) -> dict:
    period = current_quarter()
    deal_a = OpportunityFactory(
        owner=rep_a, name="Globex renewal", account=AccountFactory(owner=rep_a, name="Globex")
    )
    deal_b = OpportunityFactory(
        owner=rep_b, name="Initech expansion", account=AccountFactory(owner=rep_b, name="Initech")
    )
    last_week = timezone.localdate() - dt.timedelta(days=7)
    for person, amount in ((rep_a, 4000), (manager_a, 9000), (rep_b, 3000), (manager_b, 7000)):
        rollup(person, period, commit_amount=amount, weighted_amount=amount, p50_amount=amount)
        # This week's call, and last week's call of record (so the waterfall has steps)
        ForecastCall.objects.create(
            person=person, period=period, commit_amount=amount, best_case_amount=amount,
            submitted_by=person,
        )  # fmt: skip
        CallOfRecord.objects.create(
            person=person, period=period, locked_on=last_week, commit_amount=amount - 1500,
            best_case_amount=amount,
        )  # fmt: skip
    # rep_a converts Discover far below se_a (the team): the agenda's first item
    kpi(
        rep_a,
        period,
        stage_conversion={"1": 0.6, "2": 0.1},
        days_in_stage={"2": 40},
        win_rate_count=0.3,
        average_deal_amount=12000,
        activities_by_kind={"call": 9, "email": 4},
    )
    kpi(se_a, period, stage_conversion={"1": 0.6, "2": 0.7}, days_in_stage={"2": 12})
    return {"deal_a": deal_a, "deal_b": deal_b, "period": period}


def test_rep_logs_a_call_and_completes_a_milestone(login, page, org, rep_a):
    login(rep_a)

    # Lands on rep home with their own deal only
    assert page.url.endswith(reverse("accounts:rep_home"))
    assert page.locator("h1").inner_text() == "My work"
    assert page.get_by_text("Globex renewal").count() >= 1
    assert page.get_by_text("Initech expansion").count() == 0
    assert page.locator("#my-quota").count() == 1

    # One-click logging: the popover on the deal's row
    row = page.locator("tr", has_text="Globex renewal")
    row.locator("summary", has_text="Log call").click()
    row.locator("textarea[name=notes]").fill("Walked the CFO through pricing")
    row.locator("input[name=next_step]").fill("Send the order form")
    row.locator("button", has_text="Save").click()
    page.wait_for_load_state()
    assert page.get_by_text("Call logged on Globex renewal").count() == 1

    # Complete the next milestone with evidence
    row = page.locator("tr", has_text="Globex renewal")
    row.locator("summary", has_text="Complete").click()
    row.locator("textarea[name=evidence]").fill("Discovery call notes: https://wiki/globex")
    row.locator("button", has_text="Mark complete").click()
    page.wait_for_load_state()
    assert page.get_by_text("completed").count() >= 1
    screenshot(page, "rep_home")

    activity = Activity.objects.get()
    assert (activity.owner, activity.opportunity) == (rep_a, org["deal_a"])
    completion = MilestoneCompletion.objects.get()
    assert completion.evidence.startswith("Discovery call notes")

    # The same page on a phone
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    screenshot(page, "rep_home_phone")


def test_manager_sees_the_team_records_a_review_and_a_debrief(
    login, page, org, rep_a, rep_b, manager_a
):
    login(manager_a)

    # Lands on the team dashboard: their rep, not the other team's
    assert page.url.endswith(reverse("coaching:team_dashboard"))
    table = page.locator("#team-table")
    assert table.get_by_text(str(rep_a)).count() == 1
    assert table.get_by_text(str(rep_b)).count() == 0
    assert page.locator(".plotly-graph-div").count() == 2
    page.locator(".plotly-graph-div .main-svg").first.wait_for()
    screenshot(page, "team_dashboard")

    # A click drills into a rep: their coaching view with the agenda
    table.get_by_role("link", name=str(rep_a)).click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == str(rep_a)
    assert page.locator("#agenda").get_by_text("Discover").count() >= 1
    page.locator(".plotly-graph-div .main-svg").first.wait_for()
    screenshot(page, "rep_coaching")

    # Start an account review of rep A's account
    account = org["deal_a"].account
    page.goto(f"{reverse('coaching:review_list')}?account={account.pk}")
    page.get_by_label(str(rep_a)).check()
    page.locator("#review-create-form button[type=submit]").click()
    page.wait_for_load_state()
    assert re.search(r"/coaching/reviews/\d+/$", page.url)

    # Rate a scorecard criterion (an HTMX partial swap) ...
    card = page.locator(".score", has_text="Political dynamics").first
    card.locator("select[name=rating]").select_option("4")
    card.locator("textarea[name=note]").fill("CFO sponsors the project")
    card.locator("button", has_text="Save").click()
    page.locator(".score--rep_note", has_text="Political dynamics").wait_for()
    # ... and add an action item
    form = page.locator("#action-item-form")
    form.locator("input[name=description]").fill("Book the CFO meeting")
    form.locator("select[name=owner]").select_option(str(rep_a.pk))
    form.locator("input[name=due_on]").fill("2026-12-15")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("#action-items").get_by_text("Book the CFO meeting").count() == 1
    screenshot(page, "account_review")

    score = OpportunityScore.objects.get()
    assert (score.rating, score.evidence_state) == (4, EvidenceState.REP_NOTE)
    assert ActionItem.objects.get().owner == rep_a

    # Debrief a joint call
    page.goto(reverse("coaching:debrief_list"))
    form = page.locator("#debrief-form")
    form.locator("select[name=rep]").select_option(str(rep_a.pk))
    form.locator("textarea[name=went_well]").fill("Clear agenda, good questions")
    form.locator("textarea[name=to_improve]").fill("Let the buyer talk more")
    form.get_by_label("Listening").check()
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.get_by_text("Clear agenda, good questions").count() == 1
    screenshot(page, "debriefs")
    debrief = CallDebrief.objects.get()
    assert (debrief.rep, debrief.manager) == (rep_a, manager_a)


def test_executive_expands_the_rollup_tree(login, page, org, executive, manager_a, rep_a):
    login(executive)

    assert page.url.endswith(reverse("coaching:executive_rollup"))
    tree = page.locator("#rollup-tree")
    assert tree.get_by_text(str(manager_a)).count() == 1
    assert tree.get_by_text(str(rep_a)).count() == 0

    # Expanding a manager's node loads their team's rows in place
    page.get_by_label(f"Expand {manager_a}").click()
    tree.get_by_text(str(rep_a)).wait_for()
    # ... and folds them away again without another request
    page.get_by_label(f"Collapse {manager_a}").click()
    tree.get_by_text(str(rep_a)).wait_for(state="hidden")
    page.get_by_label(f"Expand {manager_a}").click()
    tree.get_by_text(str(rep_a)).wait_for()
    page.locator(".plotly-graph-div .main-svg").first.wait_for()
    assert tree.locator("tr", has_text=str(manager_a)).get_by_text("+1,500").count() == 1
    screenshot(page, "executive_rollup")
