"""KPIs: one definition each, own and over the subtree, with quotas from territories."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from django.utils import timezone

from forecasting.analytics import kpis
from forecasting.models import KpiSnapshot, Scope
from forecasting.services.recompute import forecast_recompute_all
from tests.factories import ActivityFactory
from tests.forecasting.factories import deal


def test_closed_figures_definitions():
    closed = pd.DataFrame(
        {
            "node_id": [1, 1, 1, 2],
            "won": [True, True, False, False],
            "amount": [1000.0, 3000.0, 1000.0, 500.0],
            "cycle_days": [10.0, 30.0, 5.0, 7.0],
        }
    )

    table = kpis.closed_figures(closed)

    assert table.loc[1, "win_rate_count"] == pytest.approx(2 / 3)
    assert table.loc[1, "win_rate_value"] == pytest.approx(0.8)
    assert table.loc[1, "average_deal_amount"] == 2000
    assert table.loc[1, "median_cycle_days"] == 20
    assert table.loc[2, "win_rate_count"] == 0
    assert pd.isna(table.loc[2, "average_deal_amount"])


def test_required_coverage_is_one_over_the_win_rate_not_three():
    frame = kpis.coverage(
        pd.Series({1: 2000.0}), pd.Series({1: 4000.0}), pd.Series({1: 8000.0}), pd.Series({1: 0.8})
    )

    assert frame.loc[1, "required_coverage"] == pytest.approx(1.25)
    assert frame.loc[1, "coverage"] == pytest.approx(0.5)
    assert frame.loc[1, "coverage_gap"] == pytest.approx(0.75)


@pytest.fixture
def history(rep_a, se_a, stages, period, close_on):
    created = timezone.now() - dt.timedelta(days=40)
    day = period.start_on
    deal(rep_a, 1000, close_on=day, status="won", created_at=created)
    deal(rep_a, 3000, close_on=day, status="won", created_at=created)
    deal(rep_a, 1000, close_on=day, status="lost", created_at=created)
    deal(rep_a, 2000, close_on=close_on, stage=stages["Negotiate"])
    deal(se_a, 500, close_on=day, status="won", created_at=created)
    ActivityFactory(
        owner=rep_a,
        occurred_at=timezone.make_aware(dt.datetime.combine(period.start_on, dt.time(10))),
    )


def kpi(person, period, scope=Scope.OWN):
    return KpiSnapshot.objects.get(person=person, period=period, scope=scope)


def test_kpis_per_rep_and_per_manager_subtree(history, rep_a, manager_a, period):
    forecast_recompute_all()

    mine = kpi(rep_a, period)
    assert (mine.won_count, mine.lost_count, mine.won_amount) == (2, 1, Decimal(4000))
    assert mine.win_rate_value == pytest.approx(0.8)
    assert mine.average_deal_amount == Decimal(2000)
    assert mine.pipeline_amount == Decimal(2000)
    assert mine.required_coverage == pytest.approx(1.25)
    assert mine.activities_by_kind == {"call": 1}
    team = kpi(manager_a, period, Scope.SUBTREE)
    assert (team.won_count, team.won_amount) == (3, Decimal(4500))
    assert team.win_rate_count == pytest.approx(3 / 4)


def test_quota_kpis_read_the_territories_quota(history, rep_a, period):
    from territories.models import Quota

    Quota.objects.create(
        user=rep_a, period=period, basis=Quota.Basis.EXPLICIT, amount=Decimal(8000)
    )

    forecast_recompute_all()

    mine = kpi(rep_a, period)
    assert mine.quota_amount == Decimal(8000)
    assert mine.attainment == pytest.approx(0.5)
    assert mine.coverage == pytest.approx(2000 / (8000 - 4000))
    assert mine.coverage_gap == pytest.approx(1.25 - 0.5)


def test_quota_kpis_are_empty_without_a_quota(history, rep_a, period):
    forecast_recompute_all()

    mine = kpi(rep_a, period)
    assert (mine.quota_amount, mine.attainment, mine.coverage) == (None, None, None)


def test_ramp_days_from_hire_to_first_win(history, rep_a, period):
    forecast_recompute_all()

    assert kpi(rep_a, period).days_to_first_win == (period.start_on - rep_a.hire_date).days
    assert kpi(rep_a, period).hire_cohort == "2022 Q1"


def _kpi_values():
    return sorted(
        tuple(v for k, v in row.items() if k not in ("id", "computed_at"))
        for row in KpiSnapshot.objects.values()
    )


def test_a_kpi_shard_given_the_plans_full_quota_days_writes_the_same_rows(history, rep_a, period):
    """The plan works out each person's first quarter at full quota once (every quarter's
    quotas and bookings: 15 s at 1 M deals); a shard given it writes exactly the rows it
    writes when it reads every quarter itself."""
    from forecasting.models import RecomputeRun
    from forecasting.services import kpis as kpi_services
    from forecasting.services.context import Context, forecast_periods
    from territories.models import Quota

    Quota.objects.create(
        user=rep_a, period=period, basis=Quota.Basis.EXPLICIT, amount=Decimal(3000)
    )  # 4,000 won this quarter: at full quota
    forecast_recompute_all()  # the shards: given the plan's days
    stored = RecomputeRun.objects.latest("id").full_quota_on
    assert stored == {str(rep_a.pk): period.end_on.isoformat()}
    from_plan = _kpi_values()
    assert kpi(rep_a, period).days_to_full_quota == (period.end_on - rep_a.hire_date).days

    ctx = Context.load(now=RecomputeRun.objects.latest("id").as_of)
    periods = forecast_periods(today=ctx.today)
    kpi_services.kpis_recompute(periods=periods, ctx=ctx)  # every quarter read here
    assert _kpi_values() == from_plan


def test_a_quota_change_refreshes_the_kpis_incrementally(
    history, rep_a, manager_a, period, django_capture_on_commit_callbacks
):
    from territories.services import quota_update

    forecast_recompute_all()
    assert kpi(rep_a, period).quota_amount is None

    # The service marks the quota's person and period stale; the batches run on commit.
    with django_capture_on_commit_callbacks(execute=True):
        quota_update(
            actor=manager_a, person=rep_a, period=period, reason="Set", amount=Decimal(8000)
        )

    assert kpi(rep_a, period).attainment == pytest.approx(0.5)
    assert kpi(manager_a, period, Scope.SUBTREE).quota_amount == Decimal(8000)
    incremental = _kpi_values()
    forecast_recompute_all()
    assert _kpi_values() == incremental  # the same rows a full run writes
