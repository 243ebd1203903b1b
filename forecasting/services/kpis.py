"""Recompute the KPI rows of every person for every recomputed period, months, quarters and
years (definitions in analytics.kpis). Quotas and attainment come from the territories app's
selectors."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db import transaction
from django.db.models import Case, Count, IntegerField, Value, When
from django.utils import timezone

from accounts.models import Activity, Stage
from salesmgmt.models import Period
from salesmgmt.money import quantize_money
from territories.selectors.attainment import OrgFigures, org_figures, org_figures_of

from .. import locks, writers
from ..analytics import flags as flag_rules
from ..analytics import kpis
from ..models import ForecastRollup, KpiSnapshot, Scope
from ..selectors import frames
from .context import Context, forecast_periods, periods_by_kind

logger = logging.getLogger(__name__)
TRAILING_DAYS = 365
# Stage changes this long before the first period still count for stays ending inside it.
STAY_LOOKBACK_DAYS = 365
ACTIVITY_COUNTS_WORK_MEM_MB = 64


def _quota_figures(
    period: Period, figures: OrgFigures | None = None
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Ramped quota and credited bookings (the credit ledger's, via territories) per person,
    own and subtree (from ``figures``, the period's ``org_figures`` when read already)."""
    figures = figures or org_figures(period=period)
    own_quota = pd.Series(
        {
            uid: float(row["amount"])
            for uid, row in figures.quota_rows.items()
            if row["basis"] != "derived"
        },
        dtype=float,
    )
    team_quota = pd.Series(
        {uid: float(q.ramped_quota) for uid, q in figures.quotas.items() if q.ramped_quota},
        dtype=float,
    )
    own_won = pd.Series({k: float(v) for k, v in figures.own_bookings.items()}, dtype=float)
    team_won = pd.Series({k: float(v) for k, v in figures.bookings.items()}, dtype=float)
    return own_quota, team_quota, own_won, team_won


def _stage_frames(
    *, since: dt.datetime, during: tuple[dt.datetime, dt.datetime]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stage entries (with when the deal left) and completed stays, of the deals whose stage
    changed ``during`` the periods: no other deal enters or leaves a stage in them."""
    changes = frames.stage_changes_frame(since=since, during=during)
    owner_of = changes.drop_duplicates("opportunity_id").set_index("opportunity_id")["owner_id"]
    order = dict(Stage.objects.values_list("pk", "order"))
    stays = flag_rules.stage_stays(changes)
    stays["stage_order"] = stays["stage_id"].map(order)
    stays["owner_id"] = stays["opportunity_id"].map(owner_of)
    rows = changes.sort_values(["opportunity_id", "at"], kind="stable").copy()
    rows["stage_order"] = pd.to_numeric(rows["new"], errors="coerce").map(order)
    rows["next_at"] = rows.groupby("opportunity_id")["at"].shift(-1)
    entries = rows[rows["stage_order"].notna()]
    return entries.dropna(subset=["owner_id"]), stays.dropna(subset=["owner_id", "stage_order"])


def kpis_recompute(
    *,
    periods: list[Period],
    ctx: Context,
    person_ids: list[int] | None = None,
    period_ids: list[int] | None = None,
    full_quota_on: dict[int, dt.date] | None = None,
) -> int:
    """Rewrite the KPI rows of ``periods`` (months, quarters and years); returns rows written.

    With ``person_ids`` (an incremental run) only the rows of those people and everyone above
    them are rewritten, and with ``period_ids`` only those periods' rows; the figures are
    computed exactly as in a full run (ramp needs every quarter), so both leave the same rows.
    ``full_quota_on``: ``full_quota_dates`` of every quarter of ``periods``, computed once by
    the full run's plan, so each KPI shard reads the quota figures of its own periods only.
    """
    asked = periods if period_ids is None else [p for p in periods if p.pk in period_ids]
    if not asked:
        return 0
    # A full rewrite of some periods (a shard of the full run) reads the stage history from
    # the first of all periods, as the whole run does, so its stays are the whole run's; an
    # edit's run reads from the first of its own periods only (fast).
    history = periods if person_ids is None else asked
    first_on = min(p.start_on for p in asked)
    last_on = max(p.end_on for p in asked)
    # Only the deals closed in the periods asked or the trailing year before them (a day more
    # each side: every period's own filter picks from these the rows it always had).
    closed = _closed_with_cycle_days(
        ctx, between=(first_on - dt.timedelta(days=TRAILING_DAYS + 1), last_on)
    )
    entries, stays = _stage_frames(
        since=_start_of(min(p.start_on for p in history)) - dt.timedelta(days=STAY_LOOKBACK_DAYS),
        during=(_start_of(first_on - dt.timedelta(days=1)), _start_of(last_on + dt.timedelta(2))),
    )
    people = ctx.people.set_index("person_id")
    tree = _Tree.of(ctx, people, person_ids)
    pipeline = _pipeline_values(asked, person_ids=person_ids, tree=tree)
    if full_quota_on is None:
        quarters = [p for p in periods if p.kind == Period.Kind.QUARTER]
        quotas_of, full_quota_on = _quarter_quotas(quarters)
    else:
        quotas_of = {}
    ramp = _ramp(people, frames.first_wins(), full_quota_on)
    activity_counts = _activity_counts(asked)
    figures_of = org_figures_of(periods=[p for p in asked if p.pk not in quotas_of])
    # Each scope's rows rolled up to their nodes once for the whole shard; a period takes its
    # rows from them (a merge per period, kind of row and scope was a fifth of a year's shard).
    scopes = [
        (scope, _Expanded.of(pairs, closed, entries, stays, activity_counts, first_on, last_on))
        for scope, pairs in ((Scope.OWN, tree.own_pairs), (Scope.SUBTREE, tree.subtree_pairs))
    ]
    constants = _NodeColumns.of(tree.nodes, ramp, ctx)
    rows = _period_rows(
        asked,
        scopes=scopes,
        quotas_of=quotas_of,
        figures_of=figures_of,
        pipeline=pipeline,
        nodes=tree.nodes,
        constants=constants,
    )
    return _kpi_rows_save(rows, periods=asked, person_ids=person_ids, nodes=tree.nodes)


def _period_rows(
    asked: list[Period],
    *,
    scopes: list[tuple[Scope, _Expanded]],
    quotas_of: dict,
    figures_of: dict,
    pipeline: pd.DataFrame,
    nodes: list[int],
    constants: _NodeColumns,
) -> list[tuple]:
    """The KPI rows of each period asked, each scope, from the shard's expanded frames."""
    trailing_rates: dict[tuple[str, pd.Timestamp], pd.Series] = {}
    rows: list[tuple] = []
    for same_kind in periods_by_kind(asked).values():
        for period in same_kind:
            quotas = quotas_of.get(period.pk) or _quota_figures(period, figures_of[period.pk])
            for (scope, expanded), quota, credited in zip(
                scopes, (quotas[0], quotas[1]), (quotas[2], quotas[3]), strict=True
            ):
                frames_of_period = _PeriodFrames.of(period, expanded)
                # A year, its last quarter and its last month end on the same day: they share
                # the trailing year's win rate.
                key = (scope, frames_of_period.hi)
                if key not in trailing_rates:
                    trailing_rates[key] = _trailing_win_rate(expanded, frames_of_period.hi)
                value = pipeline[
                    (pipeline["period_id"] == period.pk) & (pipeline["scope"] == scope)
                ]
                table = _scope_table(
                    frames_of_period,
                    trailing_rates[key],
                    nodes=nodes,
                    value=value.set_index("person_id")["value"],
                    quota=quota,
                    credited=credited,
                )
                rows.extend(_scope_rows(table, period, scope, frames_of_period, constants))
    return rows


def _closed_with_cycle_days(ctx: Context, *, between: tuple[dt.date, dt.date]) -> pd.DataFrame:
    """The deals closed ``between`` two days with their close day as a timestamp (``closed_day``)
    and their sales cycle in days (created to closed)."""
    closed = frames.closed_deals_frame(rates=ctx.rates, closed_between=between)
    closed["closed_day"] = pd.to_datetime(closed["closed_on"])
    closed["cycle_days"] = (
        closed["closed_day"] - closed["created_at"].dt.tz_localize(None)
    ).dt.total_seconds() / 86400
    return closed


@dataclass(frozen=True)
class _Tree:
    """The nodes whose rows are rewritten and the pairs that roll deals up to them."""

    own_pairs: pd.DataFrame | None
    subtree_pairs: pd.DataFrame
    nodes: pd.Index

    @classmethod
    def of(cls, ctx: Context, people: pd.DataFrame, person_ids: list[int] | None) -> _Tree:
        # Everyone, or (incremental) the people and everyone above them. Each node's figures
        # depend only on its own or its subtree's rows, so computing them for these nodes alone
        # gives the same figures at a fraction of the cost (no tree-depth blow-up).
        if person_ids is None:
            return cls(own_pairs=None, subtree_pairs=ctx.pairs, nodes=people.index)
        chain = ctx.pairs.loc[ctx.pairs["person_id"].isin(person_ids), "ancestor_id"]
        nodes = people.index[people.index.isin(set(chain.astype(int)))]
        return cls(
            own_pairs=pd.DataFrame({"ancestor_id": nodes, "person_id": nodes}, dtype="int64"),
            subtree_pairs=ctx.pairs[ctx.pairs["ancestor_id"].isin(nodes)],
            nodes=nodes,
        )


def _pipeline_values(
    periods: list[Period], *, person_ids: list[int] | None, tree: _Tree
) -> pd.DataFrame:
    """The stored rollups' open pipeline (pipeline + best case + commit) per person and scope."""
    rollup_rows = ForecastRollup.objects.filter(period__in=periods)
    if person_ids is not None:
        rollup_rows = rollup_rows.filter(person_id__in=[int(pid) for pid in tree.nodes])
    pipeline = pd.DataFrame(
        list(
            rollup_rows.values_list(
                "person_id",
                "period_id",
                "scope",
                "pipeline_amount",
                "best_case_amount",
                "commit_amount",
            )
        ),
        columns=["person_id", "period_id", "scope", "pipeline", "best_case", "commit"],
    )
    pipeline["value"] = pipeline[["pipeline", "best_case", "commit"]].astype(float).sum(axis=1)
    return pipeline


@dataclass(frozen=True)
class _Ramp:
    """How each person ramped: hire cohort, days to the first win and to a full quota."""

    cohort: pd.Series
    days_to_first_win: pd.Series
    days_to_full: pd.Series


Quotas = tuple[pd.Series, pd.Series, pd.Series, pd.Series]


def full_quota_dates(quarters: list[Period]) -> dict[int, dt.date]:
    """The end of each person's first quarter at full quota (own credited bookings at least
    their own quota), over ``quarters``: what the ramp KPI needs of every quarter."""
    return _quarter_quotas(quarters)[1]


def _quarter_quotas(quarters: list[Period]) -> tuple[dict[int, Quotas], dict[int, dt.date]]:
    """Each quarter's quota figures by period id, and ``full_quota_dates`` (quotas are set
    per quarter, so the first quarter at full quota is one of them)."""
    full_quota_on: dict[int, dt.date] = {}
    per_period: dict[int, Quotas] = {}
    for period in sorted(quarters, key=lambda p: p.start_on):
        quotas = _quota_figures(period)
        own_quota, _, own_won, _ = quotas
        attained = (own_won.reindex(own_quota.index).fillna(0) >= own_quota) & (own_quota > 0)
        for person_id in attained[attained].index:
            full_quota_on.setdefault(int(person_id), period.end_on)
        per_period[period.pk] = quotas
    return per_period, full_quota_on


def _ramp(people: pd.DataFrame, first_win: pd.Series, full_quota_on: dict[int, dt.date]) -> _Ramp:
    """How each person ramped: hire cohort, days to the first win and to a full quota."""
    hire = pd.to_datetime(people["hire_date"])
    days_to_first_win = (pd.to_datetime(first_win).reindex(people.index) - hire).dt.days
    cohort = (
        hire.dt.year.astype("Int64").astype(str)
        + " Q"
        + hire.dt.quarter.astype("Int64").astype(str)
    )
    days_to_full = pd.Series(
        {
            pid: (pd.Timestamp(day) - hire.get(pid)).days
            for pid, day in full_quota_on.items()
            if pd.notna(hire.get(pid))
        },
        dtype=float,
    )
    return _Ramp(cohort, days_to_first_win, days_to_full)


# The columns of each kind of row a period's KPIs read (the rest is not carried per node).
CLOSED_COLUMNS = ["owner_id", "won", "amount", "cycle_days", "closed_day"]
ENTRY_COLUMNS = ["owner_id", "stage_order", "at", "next_at", "won"]
STAY_COLUMNS = ["owner_id", "stage_order", "left_at", "days"]


@dataclass(frozen=True)
class _Expanded:
    """One scope's closed deals, stage entries, stays and activity counts of a shard's span,
    each row given its node (``kpis.expand``: the owner, or each of the owner's ancestors)
    once; a period takes its rows from these. Each node's rows keep their order, so a
    period's sums add up exactly as when its own rows were expanded."""

    closed: pd.DataFrame
    entries: pd.DataFrame
    stays: pd.DataFrame
    activities: pd.DataFrame

    @classmethod
    def of(
        cls,
        pairs: pd.DataFrame | None,
        closed: pd.DataFrame,
        entries: pd.DataFrame,
        stays: pd.DataFrame,
        activity_counts: pd.DataFrame,
        first_on: dt.date,
        last_on: dt.date,
    ) -> _Expanded:
        lo, hi = _utc_day(first_on), _utc_day(last_on + dt.timedelta(days=1))
        entries = entries.loc[(entries["at"] >= lo) & (entries["at"] < hi), ENTRY_COLUMNS]
        stays = stays.loc[(stays["left_at"] >= lo) & (stays["left_at"] < hi), STAY_COLUMNS]
        return cls(
            closed=kpis.expand(closed[CLOSED_COLUMNS], pairs),
            entries=kpis.expand(entries, pairs),
            stays=kpis.expand(stays, pairs),
            activities=kpis.expand(activity_counts, pairs),
        )

    def closed_between(self, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.DataFrame:
        """The deals closed from ``lo`` to ``hi`` (days, both included)."""
        day = self.closed["closed_day"]
        return self.closed.loc[
            (day >= lo) & (day <= hi), ["node_id", "won", "amount", "cycle_days"]
        ]


@dataclass(frozen=True)
class _PeriodFrames:
    """The deals, stage entries and stays, and activities that count for one period, with
    their nodes."""

    lo: pd.Timestamp
    hi: pd.Timestamp
    in_period: pd.DataFrame
    entries: pd.DataFrame
    stays: pd.DataFrame
    activities: pd.DataFrame

    @classmethod
    def of(cls, period: Period, expanded: _Expanded) -> _PeriodFrames:
        lo, hi = pd.Timestamp(period.start_on), pd.Timestamp(period.end_on)
        utc_lo, utc_hi = _utc_day(period.start_on), _utc_day(period.end_on + dt.timedelta(1))
        entries, stays = expanded.entries, expanded.stays
        activities = expanded.activities
        return cls(
            lo=lo,
            hi=hi,
            in_period=expanded.closed_between(lo, hi),
            entries=entries[(entries["at"] >= utc_lo) & (entries["at"] < utc_hi)],
            stays=stays[(stays["left_at"] >= utc_lo) & (stays["left_at"] < utc_hi)],
            activities=activities[activities["period_id"] == period.pk],
        )


def _utc_day(day: dt.date) -> pd.Timestamp:
    """The start of ``day`` in UTC: the stage history's period edges."""
    return pd.Timestamp(day).tz_localize("UTC")


def _trailing_win_rate(expanded: _Expanded, hi: pd.Timestamp) -> pd.Series:
    """Per node, the win rate by value of the deals closed in the trailing year to ``hi``."""
    day = expanded.closed["closed_day"]
    inside = (day > hi - pd.Timedelta(days=TRAILING_DAYS)) & (day <= hi)
    return kpis.win_rate_value(expanded.closed.loc[inside, ["node_id", "won", "amount"]])


def _scope_table(
    frames_of_period: _PeriodFrames,
    trailing_rate: pd.Series,
    *,
    nodes: pd.Index,
    value: pd.Series,
    quota: pd.Series,
    credited: pd.Series,
) -> pd.DataFrame:
    """Closed figures, pipeline, quota, attainment and coverage per node for one scope."""
    table = kpis.closed_figures(frames_of_period.in_period)
    table = table.reindex(nodes)
    for column in ("won_count", "lost_count", "won_amount", "lost_amount"):
        table[column] = table[column].fillna(0)
    # Won amount (so attainment and coverage) is the credited bookings of the credit
    # ledger, as on every other page; counts, win rates and deal sizes stay per deal.
    table["won_amount"] = credited.reindex(nodes).fillna(0.0)
    table["pipeline_amount"] = value.reindex(nodes).fillna(0.0)
    table["quota_amount"] = quota.reindex(nodes)
    table["attainment"] = (table["won_amount"] / table["quota_amount"]).where(
        table["quota_amount"] > 0
    )
    return table.join(
        kpis.coverage(
            table["pipeline_amount"],
            table["won_amount"],
            table["quota_amount"],
            trailing_rate.reindex(nodes),
        )
    )


@dataclass(frozen=True)
class _NodeColumns:
    """The columns of a node's rows that are the same in every period and scope: the node,
    its hire cohort and ramp days, and the time of the run."""

    person_ids: list[int]
    cohort: list[str]
    days_to_first_win: list[float | None]
    days_to_full: list[float | None]
    now: dt.datetime

    @classmethod
    def of(cls, nodes: pd.Index, ramp: _Ramp, ctx: Context) -> _NodeColumns:
        labels = ramp.cohort.reindex(nodes)
        return cls(
            person_ids=[int(pid) for pid in nodes],
            cohort=[
                "" if pd.isna(label) or "<NA>" in str(label) else str(label)
                for label in labels.tolist()
            ],
            days_to_first_win=_floats(ramp.days_to_first_win.reindex(nodes)),
            days_to_full=_floats(ramp.days_to_full.reindex(nodes)),
            now=ctx.now,
        )


def _scope_rows(
    table: pd.DataFrame,
    period: Period,
    scope: str,
    frames_of_period: _PeriodFrames,
    constants: _NodeColumns,
) -> list[tuple]:
    """The KpiSnapshot rows of one period and scope (tuples in ``KPI_FIELDS`` order), with
    the per-stage and activity maps as JSON text: built a column at a time."""
    lo, hi = frames_of_period.lo, frames_of_period.hi
    maps = [
        kpis.stage_conversion(frames_of_period.entries, lo, hi),
        kpis.days_in_stage(frames_of_period.stays, lo, hi),
        kpis.activity_counts(frames_of_period.activities),
    ]
    nodes = table.index
    repeat = itertools.repeat
    columns = [
        constants.person_ids, repeat(period.pk), repeat(scope),
        _counts(table["won_count"]), _counts(table["lost_count"]),
        _money(table["won_amount"]), _money(table["lost_amount"]),
        _floats(table["win_rate_count"]), _floats(table["win_rate_value"]),
        _money(table["pipeline_amount"]), _money(table["average_deal_amount"]),
        _floats(table["median_cycle_days"]), _floats(table["required_coverage"]),
        _money(table["quota_amount"]), _floats(table["attainment"]),
        _floats(table["coverage"]), _floats(table["coverage_gap"]),
        *(_json(texts, nodes) for texts in maps),
        constants.cohort, constants.days_to_first_win, constants.days_to_full,
        repeat(constants.now),
    ]  # fmt: skip
    return list(zip(*columns, strict=False))  # the repeated columns are endless


def _counts(values: pd.Series) -> list[int]:
    return values.to_numpy(dtype=np.float64).astype(np.int64).tolist()


def _floats(values: pd.Series) -> list[float | None]:
    """Floats, None for NaN (a NULL)."""
    numbers = values.to_numpy(dtype=np.float64)
    out = numbers.astype(object)
    out[np.isnan(numbers)] = None
    return out.tolist()


def _money(values: pd.Series) -> list[Decimal | None]:
    """``quantize_money`` of each amount (once per distinct amount), None for NaN."""
    numbers = values.to_numpy(dtype=np.float64)
    out = kpis.each_distinct(numbers, quantize_money)
    out[np.isnan(numbers)] = None
    return out.tolist()


def _json(texts: pd.Series, nodes: pd.Index) -> list[writers.JsonText]:
    """Each node's JSON object text ({} without entries), to be stored as it is."""
    return list(map(writers.JsonText, texts.reindex(nodes).fillna("{}").tolist()))


def _kpi_rows_save(
    rows: list[tuple], *, periods: list[Period], person_ids: list[int] | None, nodes: pd.Index
) -> int:
    """Replace the rewritten people's rows of the periods asked for; returns rows written."""
    stale = KpiSnapshot.objects.filter(period__in=periods)
    if person_ids is not None:
        stale = stale.filter(person_id__in=[int(pid) for pid in nodes])
    with transaction.atomic():
        locks.lock_kpi_writes()
        stale.delete()
        writers.insert_rows(KpiSnapshot, KPI_FIELDS, rows)
    return len(rows)


def kpis_recompute_for_people(*, person_ids: list[int], period_ids: list[int]) -> int:
    """After an incremental recompute: these people's KPI rows and those above them."""
    ctx = Context.load()
    periods = forecast_periods(today=ctx.today)
    # A period the edit named but with no deal left (its last deal moved away) is rewritten
    # too: to zeros, as a full run would if it still covered it.
    known = {p.pk for p in periods}
    periods += list(Period.objects.filter(pk__in=set(period_ids) - known))
    return kpis_recompute(periods=periods, ctx=ctx, person_ids=person_ids, period_ids=period_ids)


def _activity_counts(periods: list[Period]) -> pd.DataFrame:
    """Activities per period, owner and kind: counted by the database in one scan per stretch
    between two period edges (a year's shard: its months), then summed into each period that
    is made of stretches (its quarters and the year), so each activity is read once however
    the periods nest or overlap."""
    edges = sorted({p.start_on for p in periods} | {p.end_on + dt.timedelta(1) for p in periods})
    stretches = [
        (lo, hi)
        for lo, hi in itertools.pairwise(edges)
        if any(p.start_on <= lo and hi <= p.end_on + dt.timedelta(1) for p in periods)
    ]
    stretch_of = Case(
        *(
            When(occurred_at__gte=_start_of(lo), occurred_at__lt=_start_of(hi), then=Value(i))
            for i, (lo, hi) in enumerate(stretches)
        ),
        default=Value(-1),
        output_field=IntegerField(),
    )
    rows = (
        Activity.objects.filter(
            occurred_at__gte=_start_of(edges[0]), occurred_at__lt=_start_of(edges[-1])
        )
        .annotate(stretch=stretch_of)
        .values_list("stretch", "owner_id", "kind")
        .annotate(count=Count("id"))
        .order_by()
    )
    # A year's (month, owner, kind) groups: about 300,000 at 1 M deals, which spilled to disk.
    with frames.work_mem(ACTIVITY_COUNTS_WORK_MEM_MB):
        counts = pd.DataFrame(list(rows), columns=["stretch", "owner_id", "kind", "count"])
    parts = []
    for period in periods:
        inside = [
            i
            for i, (lo, hi) in enumerate(stretches)
            if period.start_on <= lo and hi <= period.end_on + dt.timedelta(1)
        ]
        part = counts[counts["stretch"].isin(inside)]
        part = part.groupby(["owner_id", "kind"], as_index=False, sort=False)["count"].sum()
        parts.append(part.assign(period_id=period.pk))
    columns = ["period_id", "owner_id", "kind", "count"]
    return pd.concat([part[columns] for part in parts], ignore_index=True)


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


KPI_FIELDS = [
    "person_id", "period_id", "scope", "won_count", "lost_count", "won_amount", "lost_amount",
    "win_rate_count", "win_rate_value", "pipeline_amount", "average_deal_amount",
    "median_cycle_days", "required_coverage", "quota_amount", "attainment", "coverage",
    "coverage_gap", "stage_conversion", "days_in_stage", "activities_by_kind", "hire_cohort",
    "days_to_first_win", "days_to_full_quota", "computed_at",
]  # fmt: skip
