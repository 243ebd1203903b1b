"""The full run's KPI shards: one per year with its quarters and months, writing the rows the
shards of one kind wrote; each shard reads the activities once."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pandas as pd
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Activity, OpportunityChange
from forecasting.analytics import flags as flag_rules
from forecasting.models import KpiSnapshot, RecomputeRun, Scope
from forecasting.selectors import frames
from forecasting.services import kpis as kpi_services
from forecasting.services import shards
from forecasting.services.context import Context, forecast_periods, periods_by_kind
from forecasting.services.recompute import forecast_recompute_all
from salesmgmt.models import Period
from tests.fixtures.services import require_postgresql

TRIALS = 300


@pytest.fixture
def demo(db):
    """A small demo organisation: a tree of teams, months, quarters and years of deals, with
    their stage changes and activities."""
    call_command("seed_demo", reps=8, opportunities=160, activities_per_deal=2.0, stdout=StringIO())


def _kpi_rows() -> list[tuple]:
    return sorted(
        (tuple(v for k, v in row.items() if k not in ("id", "computed_at", "created_at",
                                                      "updated_at"))
         for row in KpiSnapshot.objects.values()),
        key=repr,
    )  # fmt: skip


def _day(at: pd.Timestamp) -> dt.date:
    return at.tz_convert(timezone.get_current_timezone()).date()


def test_the_kpi_shards_are_one_per_year_with_its_quarters_and_months(demo):
    run = RecomputeRun.objects.create(phase="queued", as_of=timezone.now(), trials=TRIALS)
    forecast_recompute_all(run=run, dispatch=lambda step: None)

    periods = Period.objects.in_bulk(shards.run_period_ids(run))
    groups = [
        [periods[pk] for pk in ids]
        for ids in run.shards.filter(stage="kpis")
        .order_by("position")
        .values_list("period_ids", flat=True)
    ]
    years = sorted(p.pk for p in periods.values() if p.kind == Period.Kind.YEAR)
    assert len(years) > 1
    assert sorted(next(p.pk for p in g if p.kind == Period.Kind.YEAR) for g in groups) == years
    for group in groups:
        (year,) = [p for p in group if p.kind == Period.Kind.YEAR]
        assert all(year.start_on <= p.start_on and p.end_on <= year.end_on for p in group)
        assert {p.kind for p in group} == {"year", "quarter", "month"}
    # every period of the run in one shard, once
    assert sorted(p.pk for g in groups for p in g) == sorted(periods)
    # and the largest first (the most stage changes), so the last to start are small ones
    sizes = [
        frames.stage_change_count(since=min(p.start_on for p in g), until=max(p.end_on for p in g))
        for g in groups
    ]
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[0] > sizes[-1]


def test_kpi_shards_by_year_write_the_rows_of_shards_by_kind(demo):
    # given stage stays that cross a year's edge, and one that began before the year before
    as_of = timezone.now()
    forecast_recompute_all(now=as_of, trials=TRIALS)
    run = RecomputeRun.objects.get()
    by_year = _kpi_rows()
    ctx = Context.load(now=as_of, params=run.model.params, trials=TRIALS)
    periods = forecast_periods(today=ctx.today)
    years = [p for p in periods if p.kind == Period.Kind.YEAR]
    changes = pd.DataFrame(
        OpportunityChange.objects.filter(field="stage").values_list(
            "opportunity_id", "changed_at", "new_value"
        ),
        columns=["opportunity_id", "at", "new"],
    )
    changes["at"] = pd.to_datetime(changes["at"], utc=True)
    stays = flag_rules.stage_stays(changes)
    starts, ends = stays["at"].map(_day), stays["left_at"].map(_day)
    assert any(
        ((starts < y.start_on) & (ends >= y.start_on) & (ends <= y.end_on)).any() for y in years
    )
    assert KpiSnapshot.objects.exclude(days_in_stage={}).filter(scope=Scope.OWN).exists()
    assert KpiSnapshot.objects.exclude(stage_conversion={}).exists()
    assert KpiSnapshot.objects.exclude(activities_by_kind={}).exists()

    # when every kind's periods are rewritten six to a shard, as the shards by kind did
    KpiSnapshot.objects.all().delete()
    for same_kind in periods_by_kind(periods).values():
        for start in range(0, len(same_kind), 6):
            kpi_services.kpis_recompute(
                periods=periods,
                ctx=Context.load(now=as_of, params=run.model.params, trials=TRIALS),
                period_ids=[p.pk for p in same_kind[start : start + 6]],
                full_quota_on=shards.stored_full_quota_on(run),
            )

    # then every KPI row is the same, every field
    assert _kpi_rows() == by_year


def test_a_year_shard_reads_the_activities_once_and_counts_each_period(demo):
    as_of = timezone.now()
    ctx = Context.load(now=as_of)
    periods = forecast_periods(today=ctx.today)
    year = max(
        (p for p in periods if p.kind == Period.Kind.YEAR),
        key=lambda p: _counted_total(p.start_on, p.end_on),
    )
    year_and_its_periods = [
        p for p in periods if year.start_on <= p.start_on and p.end_on <= year.end_on
    ]
    assert len({p.kind for p in year_and_its_periods}) == 3

    with CaptureQueriesContext(connection) as queries:
        kpi_services.kpis_recompute(
            periods=periods, ctx=ctx, period_ids=[p.pk for p in year_and_its_periods]
        )

    # one scan of the activities for the year, its quarters and its months (one a kind before)
    activity_reads = [q for q in queries if 'FROM "accounts_activity"' in q["sql"]]
    assert len(activity_reads) == 1
    for period in year_and_its_periods:
        assert _stored_counts(period) == _counted(period)
    assert any(_counted(p) for p in year_and_its_periods)


def test_activities_of_periods_that_do_not_nest_are_counted_each_in_full(demo):
    # given a month, the quarter around it, and a period straddling the month's last day
    ctx = Context.load(now=timezone.now())
    month = max(
        (p for p in forecast_periods(today=ctx.today) if p.kind == Period.Kind.MONTH),
        key=lambda p: _counted_total(p.start_on, p.end_on),
    )
    quarter = Period.objects.get(
        kind=Period.Kind.QUARTER, start_on__lte=month.start_on, end_on__gte=month.end_on
    )
    straddle = Period(pk=-1, start_on=month.start_on + dt.timedelta(days=10))
    straddle.end_on = straddle.start_on + dt.timedelta(days=30)

    counts = kpi_services._activity_counts([month, quarter, straddle])

    for period in (month, quarter, straddle):
        mine = counts[counts["period_id"] == period.pk]
        got = {(int(o), k): int(n) for o, k, n in mine[["owner_id", "kind", "count"]].to_numpy()}
        assert got == _counted_by_owner(period.start_on, period.end_on)
    assert _counted_total(straddle.start_on, straddle.end_on) > 0


def _bounds(start_on: dt.date, end_on: dt.date) -> dict[str, dt.datetime]:
    at = timezone.make_aware(dt.datetime.combine(start_on, dt.time.min))
    until = timezone.make_aware(dt.datetime.combine(end_on + dt.timedelta(days=1), dt.time.min))
    return {"occurred_at__gte": at, "occurred_at__lt": until}


def _counted_by_owner(start_on: dt.date, end_on: dt.date) -> dict[tuple[int, str], int]:
    rows = (
        Activity.objects.filter(**_bounds(start_on, end_on))
        .values_list("owner_id", "kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {(owner, kind): n for owner, kind, n in rows}


def _counted_total(start_on: dt.date, end_on: dt.date) -> int:
    return Activity.objects.filter(**_bounds(start_on, end_on)).count()


def _counted(period: Period) -> dict[int, dict[str, int]]:
    """Each owner's activities by kind in the period, counted here."""
    out: dict[int, dict[str, int]] = {}
    for (owner, kind), n in _counted_by_owner(period.start_on, period.end_on).items():
        out.setdefault(owner, {})[kind] = n
    return out


def _stored_counts(period: Period) -> dict[int, dict[str, int]]:
    rows = KpiSnapshot.objects.filter(period=period, scope=Scope.OWN).exclude(activities_by_kind={})
    return dict(rows.values_list("person_id", "activities_by_kind"))


def test_org_figures_of_a_year_and_its_periods_equal_each_periods_own(demo):
    from territories.selectors.attainment import org_figures, org_figures_of

    ctx = Context.load(now=timezone.now())
    periods = forecast_periods(today=ctx.today)
    year = max(
        (p for p in periods if p.kind == Period.Kind.YEAR),
        key=lambda p: _counted_total(p.start_on, p.end_on),
    )
    inside = [p for p in periods if year.start_on <= p.start_on and p.end_on <= year.end_on]
    # and a month of another year (an edit's periods): read apart, not with the years between
    far = min((p for p in periods if p.kind == Period.Kind.MONTH), key=lambda p: p.start_on)
    assert far.end_on < year.start_on

    together = org_figures_of(periods=[*inside, far])

    for period in [*inside, far]:
        alone = org_figures(period=period)
        mine = together[period.pk]
        assert (mine.own_bookings, mine.bookings) == (alone.own_bookings, alone.bookings)
        assert (mine.quotas, mine.quota_rows) == (alone.quotas, alone.quota_rows)
    assert together[year.pk].own_bookings


def test_the_deals_with_a_stage_change_in_a_window_come_from_the_stage_index(demo):
    # Plans with sequential scans priced out, as tests/benchmarks/test_plans.py takes them.
    require_postgresql("Plans are PostgreSQL's.")
    since = timezone.now() - dt.timedelta(days=3 * 365)
    during = (timezone.now() - dt.timedelta(days=365), timezone.now())
    with CaptureQueriesContext(connection) as queries:
        frames.stage_changes_frame(since=since, during=during)
    (sql,) = [q["sql"] for q in queries if 'FROM "accounts_opportunitychange"' in q["sql"]]

    with connection.cursor() as cursor:
        # On a table this small the time index of every field costs about the same; at 1 M
        # deals it read three other rows for each stage row. Dropped inside the test's
        # transaction (rolled back with it), so the plan shows what serves the window without it.
        cursor.execute("DROP INDEX change_at")
        cursor.execute("ANALYZE accounts_opportunitychange")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        (plan,) = cursor.fetchone()[0]

    # the window's stage rows (the only range with an end) from their own index, not every
    # field's rows in it filtered to them
    window = [
        n
        for n in _nodes(plan["Plan"])
        if "changed_at <" in n.get("Index Cond", "") or "changed_at <" in n.get("Filter", "")
    ]
    assert [n.get("Index Name") for n in window] == ["change_stage_at"]
    assert "Filter" not in window[0]


def _nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)
