"""KPIs: one definition each, own and over the subtree, with quotas from territories."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import numpy as np
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


def _dumped(series: pd.Series, key, value) -> dict[int, str]:
    """The maps as a dict per node, each dumped: what the rows held before ``json_objects``."""
    out: dict[int, dict] = {}
    for (node, inner), number in series.items():
        out.setdefault(int(node), {})[key(inner)] = value(number)
    return {node: json.dumps(inner) for node, inner in out.items()}


def test_json_objects_write_the_text_of_each_nodes_dict():
    # given rates whose rounding to 4 places differs between Python and numpy (0.00005 and
    # 0.12345 round up in Python, down in numpy), a -0.0, repeated values and string keys
    rates = pd.Series(
        [5e-05, 0.12345, 1 / 3, -0.0, 0.0, 1 / 3, 0.25],
        index=pd.MultiIndex.from_tuples(
            [(3, 1.0), (3, 2.0), (3, 4.0), (7, 1.0), (7, 3.0), (9, 2.0), (12, 5.0)]
        ),
    )
    counts = pd.Series(
        [4, 1, 4, 10**12],
        index=pd.MultiIndex.from_tuples([(2, "call"), (2, 'e"mail'), (5, "call"), (6, "meeting")]),
    )

    def order(k):
        return str(int(k))

    def rate(v):
        return round(float(v), 4)

    # when they are written as JSON text per node
    texts = kpis.json_objects(rates, order, rate)
    kinds = kpis.json_objects(counts, str, int)

    # then each is the text json.dumps writes of the node's dict, in the same order
    assert texts.to_dict() == _dumped(rates, order, rate)
    assert texts[3] == '{"1": 0.0001, "2": 0.1235, "4": 0.3333}'
    assert texts[7] == '{"1": -0.0, "3": 0.0}'
    assert kinds.to_dict() == _dumped(counts, str, int)
    assert {node: json.loads(text) for node, text in kinds.items()}[2] == {"call": 4, 'e"mail': 1}
    assert kpis.json_objects(rates.iloc[:0], order, rate).empty


def test_the_trailing_win_rate_is_closed_figures_to_the_bit():
    # given many deals per node in no order, amounts whose sums depend on their order
    rng = np.random.default_rng(7)
    closed = pd.DataFrame(
        {
            "node_id": rng.integers(1, 40, 5000),
            "won": rng.random(5000) < 0.4,
            "amount": rng.random(5000) * 10 ** rng.integers(0, 7, 5000),
            "cycle_days": rng.random(5000) * 90,
        }
    )
    closed.loc[closed["node_id"] == 5, "won"] = False  # a node that only lost
    closed.loc[closed["node_id"] == 6, "amount"] = 0.0  # and one with nothing closed by value

    rate = kpis.win_rate_value(closed)

    expected = kpis.closed_figures(closed)["win_rate_value"]
    assert rate.index.equals(expected.index)
    assert rate.to_numpy().tobytes() == expected.to_numpy().tobytes()
    assert rate[5] == 0
    assert pd.isna(rate[6])


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
