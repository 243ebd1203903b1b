"""Coaching reads: the comparison against the team, the agenda, the dashboards' figures."""

from __future__ import annotations

import pandas as pd
import pytest
from django.urls import reverse

from coaching import analytics, selectors
from coaching.models import ScorecardTemplate
from forecasting.models import CallOfRecord, ForecastCall
from salesmgmt.models import Role
from tests.coaching.factories import flag, kpi, rollup, team
from tests.factories import OpportunityFactory, UserFactory, build_process


def frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["person_id", "stage_conversion", "days_in_stage"])


def test_stage_comparison_against_the_team_median():
    kpis = frame(
        [
            {"person_id": 1, "stage_conversion": {"1": 0.2, "2": 0.8}, "days_in_stage": {"1": 40}},
            {"person_id": 2, "stage_conversion": {"1": 0.6, "2": 0.6}, "days_in_stage": {"1": 10}},
            {"person_id": 3, "stage_conversion": {"1": 0.7, "2": 0.5}, "days_in_stage": {"1": 12}},
        ]
    )

    comparison = analytics.stage_comparison(kpis, person_id=1)

    assert comparison.loc[1, "rep_conversion"] == pytest.approx(0.2)
    assert comparison.loc[1, "team_conversion"] == pytest.approx(0.6)
    assert comparison.loc[1, "team_days"] == pytest.approx(12)
    assert analytics.weakest_transitions(comparison) == [1]


def test_weakest_transitions_orders_by_the_conversion_gap_then_slowness():
    comparison = pd.DataFrame(
        {
            "rep_conversion": [0.5, 0.1, 0.6, 0.3],
            "team_conversion": [0.5, 0.5, 0.5, 0.5],
            "rep_days": [30, 5, 5, 5],
            "team_days": [10, 5, 5, 5],
        },
        index=[1, 2, 3, 4],
    ).assign(
        conversion_gap=lambda f: f["rep_conversion"] - f["team_conversion"],
        days_gap=lambda f: f["rep_days"] - f["team_days"],
    )

    # stage 2 (-0.4), stage 4 (-0.2), stage 1 (slow only); stage 3 is better than the team
    assert analytics.weakest_transitions(comparison, limit=3) == [2, 4, 1]


def test_no_kpis_means_no_agenda():
    assert analytics.weakest_transitions(analytics.stage_comparison(frame([]), person_id=1)) == []


def test_agenda_picks_the_weakest_transition_with_the_deals_to_discuss(
    process, period, rep_a, se_a, manager_a
):
    # Given rep_a converts Discover (order 2) far below the team
    kpi(rep_a, period, stage_conversion={"1": 0.6, "2": 0.1}, days_in_stage={"2": 40})
    kpi(se_a, period, stage_conversion={"1": 0.6, "2": 0.7}, days_in_stage={"2": 10})
    discover = process.stages.get(order=2)
    stuck = OpportunityFactory(owner=rep_a, stage=discover, name="Stuck in discover")
    OpportunityFactory(owner=rep_a, name="Early deal")  # in Qualify: not on the agenda

    data = selectors.rep_coaching(viewer=manager_a, person=rep_a)

    assert [item.stage_order for item in data.agenda] == [2]
    item = data.agenda[0]
    assert item.stage == discover
    assert [m.name for m in item.milestones] == ["Discover #1", "Discover #2"]
    assert [deal.pk for deal in item.deals] == [stuck.pk]
    assert data.weakest_order == 2


def test_team_dashboard_credits_flags_and_figures_to_each_direct_report(
    process, period, executive, manager_a, manager_b, rep_a, rep_b
):
    deal = OpportunityFactory(owner=rep_a)
    flag(deal, "pushed_twice")
    flag(deal, "no_activity")
    flag(OpportunityFactory(owner=rep_b), "pushed_twice")
    rollup(manager_a, period, commit_amount=500)

    dashboard = selectors.team_dashboard(manager=executive, period=period)

    rows = {row.person.pk: row for row in dashboard.rows}
    assert set(rows) == {manager_a.pk, manager_b.pk}
    assert rows[manager_a.pk].flags == {"pushed_twice": 1, "no_activity": 1}
    assert rows[manager_b.pk].flags == {"pushed_twice": 1}
    assert rows[manager_a.pk].rollup.commit_amount == 500


def test_rollup_children_and_the_waterfall(process, period, executive, manager_a, manager_b):
    team(manager_a, 2, period=period)
    rollup(manager_a, period, weighted_amount=700, p10_amount=1, p50_amount=2, p90_amount=3)
    rollup(executive, period, closed_amount=100, commit_amount=200, pipeline_amount=300)

    node, children = selectors.rollup_children(viewer=executive, person=executive, period=period)

    assert node.person == executive
    assert [c.person for c in children] == sorted([manager_a, manager_b], key=lambda u: (
        u.last_name, u.first_name, u.pk))  # fmt: skip
    assert all(c.has_children for c in children if c.person == manager_a)
    # Without calls, the bridge shows what the forecast is made of
    title, steps = selectors.waterfall_frame(node=node, children=children)
    assert title.startswith("Forecast by category")
    assert steps["amount"].tolist()[:4] == [100.0, 200.0, 0.0, 300.0]
    # With a call and last week's call of record, it bridges the change per direct report
    ForecastCall.objects.create(
        person=manager_a, period=period, commit_amount=900, best_case_amount=900,
        submitted_by=manager_a,
    )  # fmt: skip
    CallOfRecord.objects.create(
        person=manager_a, period=period, locked_on=period.start_on, commit_amount=600,
        best_case_amount=600,
    )  # fmt: skip
    node, children = selectors.rollup_children(viewer=executive, person=executive, period=period)
    title, steps = selectors.waterfall_frame(node=node, children=children)
    assert steps["measure"].tolist() == ["absolute", "relative", "relative", "total"]
    assert 300.0 in steps["amount"].tolist()


def test_ramp_compares_new_hires_with_earlier_cohorts(period, manager_a):
    old = UserFactory(manager=manager_a, role=Role.REP)
    new = UserFactory(manager=manager_a, role=Role.REP, hire_date=period.start_on)
    kpi(old, period, hire_cohort="2022Q1", days_to_first_win=90, days_to_full_quota=200)
    kpi(new, period, hire_cohort="2026Q4", days_to_first_win=40)

    ramp = analytics.ramp_cohorts(selectors.ramp_frame(viewer=manager_a))

    by_person = ramp.set_index("person_id")
    assert bool(by_person.loc[new.pk, "is_new_hire"])
    assert by_person.loc[new.pk, "cohort_first_win"] == 90


def test_a_process_can_have_its_own_scorecard_template(process):
    own = ScorecardTemplate.objects.create(name="Enterprise", process=process)
    other = build_process(name="Velocity")

    templates = selectors.templates_by_process(process_ids={process.pk, other.pk})

    assert templates[process.pk] == own
    assert templates[other.pk].name == "Functional / Financial / Political"


def test_coaching_view_lists_the_records_failing_compliance(client, process, manager_a, rep_a):
    OpportunityFactory(owner=rep_a, name="No next step", next_step="")
    client.force_login(manager_a)

    response = client.get(reverse("coaching:rep_coaching", args=[rep_a.pk]))

    compliance = response.context["data"].compliance
    assert compliance.score == 0
    assert "No next step" in response.text
    assert "Has a next step" in response.text
