"""The plan from the database: segments matched by the rule engine, history, headcount."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from accounts.models import Opportunity
from planning import selectors, services
from tests.factories import OpportunityFactory


def test_segment_account_counts_lower_priority_wins(sales_task):
    enterprise, mid = sales_task
    # The big accounts match both segments; Enterprise's priority 10 wins.
    assert selectors.segment_account_counts([enterprise, mid]) == {enterprise.pk: 2, mid.pk: 3}


def test_plan_view_workload_sizing_and_headcount_gap(sales_task, rep_a, rep_b, se_a):
    view = selectors.plan_view()
    ae = view.baseline.by_role.set_index("sales_role").loc["ae"]
    # (600 + 1200) h / 1000 h = 1.8 FTE -> 2 people; AEs today: rep_a and rep_b.
    assert (ae["fte"], ae["people"], ae["today"], ae["gap"]) == (1.8, 2, 2, 0)
    se = view.baseline.by_role.set_index("sales_role").loc["se"]
    assert (se["people"], se["today"], se["gap"]) == (0, 1, -1)


def test_history_from_closed_deals_of_the_trailing_year(process, rep_a):
    today = timezone.localdate()
    closed_on = today - dt.timedelta(days=10)
    for status, amount in (("won", 1000), ("won", 3000), ("lost", 500), ("lost", 500)):
        OpportunityFactory(
            owner=rep_a, process=process, status=status, amount=Decimal(amount),
            closed_on=closed_on, created_at=timezone.now() - dt.timedelta(days=40),
        )  # fmt: skip
    # Closed before the window: ignored.
    OpportunityFactory(
        owner=rep_a, process=process, status=Opportunity.Status.WON, amount=Decimal(99_000),
        closed_on=today - dt.timedelta(days=400),
    )  # fmt: skip
    past = selectors.history(today=today)
    # 2 won of 4 decided; (1000 + 3000) / 2; rep_a (no hire date: ramped) booked 4000.
    assert past.win_rate == Decimal("0.5")
    assert past.deal_size == Decimal("2000.0")
    assert past.productivity == Decimal("4000.0")
    assert past.cycle_days in (30, 31)


def test_scenario_overrides_show_beside_the_plan(sales_task, executive, rep_a):
    services.scenario_create(
        actor=executive, name="Lean", target=Decimal(1000), selling_hours=Decimal(600)
    )
    view = selectors.plan_view()
    (lean,) = view.scenarios
    # 1800 h / 600 h = 3 AEs.
    assert lean.sizing.by_role.set_index("sales_role").loc["ae", "people"] == 3
    assert view.baseline.by_role.set_index("sales_role").loc["ae", "people"] == 2


def test_capacity_view_counts_carriers_and_planned_hires(executive, rep_a, rep_b, se_a):
    # No history: the default ramp (first deal 2, half 4, full 6) and no productivity, so we
    # set the productivity through history: none here; capacity is 0, the target spread.
    today = dt.date(2026, 3, 15)
    services.planned_hire_create(
        actor=executive, sales_role="ae", start_month=dt.date(2026, 5, 20), headcount=2
    )
    view = selectors.capacity_view(today=today)
    assert (view.curve.first_deal, view.curve.half, view.curve.full) == (2.0, 4.0, 6.0)
    assert view.months["month"].iloc[0] == dt.date(2026, 3, 1)
    assert len(view.months) == 12
    assert view.hires[0].start_month == dt.date(2026, 5, 1)


def test_seats_are_todays_quota_carriers_and_planned_ones(executive, rep_a, rep_b, se_a):
    services.role_capacity_set(
        actor=executive, sales_role="ae", selling_hours=Decimal(1200),
        annual_attrition=Decimal("0.2"),
    )  # fmt: skip
    services.planned_hire_create(
        actor=executive, sales_role="am", start_month=dt.date(2026, 5, 1), headcount=3
    )
    services.planned_hire_create(actor=executive, sales_role="sdr", start_month=dt.date(2026, 5, 1))
    seats = selectors._seats(list(selectors.planned_hire_list()))
    # rep_a and rep_b (AEs, 20 % attrition; no hire date: long ago), 3 AMs; not the SE or SDR.
    rep_b.hire_date = None
    rep_b.save()
    seats = selectors._seats(list(selectors.planned_hire_list()))
    assert sorted((s.start, s.attrition, s.count) for s in seats) == sorted(
        [(rep_a.hire_date, 0.2, 1), (dt.date(2000, 1, 1), 0.2, 1), (dt.date(2026, 5, 1), 0.0, 3)]
    )
