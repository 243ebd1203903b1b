"""The forecast for any past week, from that week's snapshot: the page's ``?week=`` and the
rollups API's, as the managers and executives who read them; a week without a snapshot says so."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Opportunity
from forecasting.models import OpportunitySnapshot
from forecasting.selectors.snapshots import week_snapshot
from forecasting.services import snapshots
from salesmgmt.models import CompanySettings, WeekStart
from tests.forecasting.factories import deal

FIRST = dt.date(2026, 2, 2)  # a Monday in FY2026 Q1
SECOND = dt.date(2026, 2, 9)
CLOSE_ON = dt.date(2026, 3, 15)


@pytest.fixture
def weeks(personas, stages, q1):
    """Two weekly snapshots: rep_a's commit deal grows from 1,000 to 5,000 in between, and
    rep_b's best-case deal is closed lost (so it is in the first snapshot only)."""
    commit = deal(personas["rep_a"], 1000, close_on=CLOSE_ON, stage=stages["Negotiate"])
    deal(personas["se_a"], 300, close_on=CLOSE_ON, stage=stages["Qualify"])
    lost = deal(personas["rep_b"], 700, close_on=CLOSE_ON, stage=stages["Propose"])
    deal(personas["rep_a"], 9999, close_on=dt.date(2026, 5, 1), stage=stages["Negotiate"])  # Q2
    snapshots.snapshot_take(on=FIRST)
    OpportunitySnapshot.objects.filter(taken_on=FIRST, opportunity=commit).update(probability=0.5)
    Opportunity.objects.filter(pk=commit.pk).update(amount=Decimal(5000))
    Opportunity.objects.filter(pk=lost.pk).update(status="lost", closed_on=SECOND)
    snapshots.snapshot_take(on=SECOND)
    # Today the deal is worth more still: a past week never shows it
    Opportunity.objects.filter(pk=commit.pk).update(amount=Decimal(8000))
    return personas


def forecast(client, user, **params):
    client.force_login(user)
    return client.get(reverse("forecasting:forecast"), params)


# --- the selector -------------------------------------------------------------------------------


def test_a_week_sums_its_snapshot_per_person_and_subtree(weeks, q1):
    manager_a = weeks["manager_a"]

    week = week_snapshot(person=manager_a, period=q1, day=dt.date(2026, 2, 5))

    assert (week.week_start, week.taken_on) == (FIRST, FIRST)
    assert week.team.commit_amount == Decimal(1000)
    assert week.team.pipeline_amount == Decimal(300)
    assert week.team.open_deal_count == 2  # the Q2 deal is outside the period
    assert week.team.weighted_amount == Decimal(500)
    assert week.own.open_deal_count == 0
    rows = {row.person.username: row for row in week.rows}
    assert rows["rep_a"].commit_amount == Decimal(1000)
    assert rows["se_a"].pipeline_amount == Decimal(300)


def test_the_executive_tree_adds_every_level(weeks, q1):
    week = week_snapshot(person=weeks["executive"], period=q1, day=SECOND, whole_tree=True)

    assert week.team.commit_amount == Decimal(5000)  # the second week's amount
    assert week.team.best_case_amount == Decimal(0)  # rep_b's deal was lost by then
    rows = {row.person.username: row for row in week.rows}
    assert rows["manager_a"].commit_amount == Decimal(5000)
    assert rows["rep_a"].depth == 2


def test_weeks_start_on_the_companys_first_weekday(weeks, q1):
    CompanySettings.objects.update_or_create(pk=1, defaults={"week_start": WeekStart.SUNDAY})

    # Sunday Feb 8 starts the week of the Monday Feb 9 snapshot
    week = week_snapshot(person=weeks["manager_a"], period=q1, day=dt.date(2026, 2, 8))

    assert (week.week_start, week.taken_on) == (dt.date(2026, 2, 8), SECOND)


@pytest.mark.parametrize("deals", [3, 30])
def test_a_week_costs_the_same_queries_for_any_number_of_deals(
    personas, stages, q1, django_assert_max_num_queries, deals
):
    for _ in range(deals):
        deal(personas["rep_a"], 100, close_on=CLOSE_ON, stage=stages["Negotiate"])
    snapshots.snapshot_take(on=FIRST)

    # The company settings (week start), the snapshot's day, the subtree, the sums per owner
    with django_assert_max_num_queries(4):
        week = week_snapshot(person=personas["executive"], period=q1, day=FIRST, whole_tree=True)

    assert week.team.open_deal_count == deals


# --- the page -------------------------------------------------------------------------------


def test_manager_sees_a_past_weeks_figures(client, weeks, q1):
    response = forecast(client, weeks["manager_a"], period=q1.pk, week="2026-02-11")

    assert response.status_code == 200
    week = response.context["week"].snapshot
    assert week.taken_on == SECOND
    assert week.team.commit_amount == Decimal(5000)
    text = response.text
    assert "Week of Feb 9, 2026" in text
    assert "Mon Feb 9, 2026" in text
    assert "5,000" in text
    assert "8,000" not in text.split('id="week"')[1].split("</section>")[0]


def test_a_week_without_a_snapshot_says_so(client, weeks, q1):
    response = forecast(client, weeks["executive"], period=q1.pk, week="2026-01-14")

    assert response.status_code == 200
    assert "No snapshot was taken in the week of Jan 12, 2026 to Jan 18, 2026" in response.text
    assert "Feb 9, 2026, Feb 2, 2026" in response.text  # where snapshots exist


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-02-31", "Enter a day of the week as YYYY-MM-DD"),
        ("last week", "Enter a day of the week as YYYY-MM-DD"),
        ("2999-01-01", "Choose a past week"),
    ],
)
def test_a_bad_week_is_a_400_with_a_clear_message(client, weeks, q1, value, message):
    response = forecast(client, weeks["manager_a"], period=q1.pk, week=value)

    assert response.status_code == 400
    assert message in response.text


@pytest.mark.parametrize("value", ["0001-01-01", "0001-01-03"])
def test_the_first_week_of_the_calendar_is_a_week_without_a_snapshot(
    client, api_client_for, weeks, q1, value
):
    CompanySettings.objects.update_or_create(pk=1, defaults={"week_start": WeekStart.SUNDAY})

    page = forecast(client, weeks["manager_a"], period=q1.pk, week=value)
    api = api_client_for(weeks["manager_a"]).get(URL, {"week": value, "period": q1.pk})

    assert page.status_code == 200
    assert "No snapshot was taken" in page.text
    assert api.status_code == 404


def test_the_page_without_a_week_reads_no_snapshot(client, weeks, q1):
    response = forecast(client, weeks["rep_a"], period=q1.pk)

    assert response.status_code == 200
    assert response.context["week"].snapshot is None
    assert 'name="week"' in response.text


def test_a_rep_cannot_see_another_reps_past_week(client, weeks, q1):
    response = forecast(
        client, weeks["rep_a"], person=weeks["rep_b"].pk, period=q1.pk, week="2026-02-03"
    )

    assert response.status_code == 404


# --- the API ------------------------------------------------------------------------------------

URL = "/api/v1/forecast-rollups/"


def test_api_week_serves_the_snapshot_figures(api_client_for, weeks, q1):
    client = api_client_for(weeks["executive"])

    response = client.get(
        URL, {"week": "2026-02-04", "period": q1.pk, "person": weeks["manager_a"].pk}
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["week_start"], body["week_end"], body["taken_on"]) == (
        "2026-02-02", "2026-02-08", "2026-02-02",
    )  # fmt: skip
    assert body["period"]["id"] == q1.pk
    rows = {(r["person"]["id"], r["scope"]): r for r in body["results"]}
    team = rows[(weeks["manager_a"].pk, "subtree")]
    assert Decimal(team["commit_amount"]) == Decimal(1000)
    assert Decimal(team["weighted_amount"]) == Decimal(500)
    assert team["open_deal_count"] == 2
    assert Decimal(rows[(weeks["rep_a"].pk, "own")]["commit_amount"]) == Decimal(1000)
    assert (weeks["rep_b"].pk, "own") not in rows


def test_api_week_defaults_to_the_caller_and_the_weeks_quarter(api_client_for, weeks, q1):
    response = api_client_for(weeks["manager_a"]).get(URL, {"week": "2026-02-10"})

    assert response.status_code == 200
    body = response.json()
    assert body["person"]["id"] == weeks["manager_a"].pk
    assert body["period"]["id"] == q1.pk
    assert body["taken_on"] == "2026-02-09"


def test_api_week_without_a_snapshot_is_a_404_saying_so(api_client_for, weeks, q1):
    response = api_client_for(weeks["manager_a"]).get(URL, {"week": "2026-01-14"})

    assert response.status_code == 404
    assert "No forecast snapshot was taken in the week of 2026-01-12" in str(response.json())


@pytest.mark.parametrize("value", ["2026-02-30", "soon", "", "2999-01-01"])
def test_api_bad_week_is_a_400_on_the_field(api_client_for, weeks, value):
    response = api_client_for(weeks["manager_a"]).get(URL, {"week": value})

    assert response.status_code == 400
    assert "week" in str(response.json())


def test_api_week_of_someone_outside_your_visibility_is_a_404(api_client_for, weeks, q1):
    response = api_client_for(weeks["rep_a"]).get(
        URL, {"week": "2026-02-04", "person": weeks["rep_b"].pk}
    )

    assert response.status_code == 404


def test_api_without_week_lists_the_rollups_as_before(api_client_for, weeks):
    response = api_client_for(weeks["manager_a"]).get(URL)

    assert response.status_code == 200
    assert "results" in response.json()
    assert "taken_on" not in response.json()
