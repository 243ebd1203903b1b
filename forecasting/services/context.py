"""What a recompute loads once and shares: time, rates, the tree, the model, the history.

Also the period rules every forecasting computation uses (which periods are recomputed, the
previous windows of a period). Stored amounts follow the one money rule,
``salesmgmt.money.quantize_money``.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
from django.conf import settings
from django.db.models import Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts.models import Opportunity
from salesmgmt.models import Period
from salesmgmt.money import RateTable

from ..analytics import montecarlo, rollups
from ..models import ProbabilityModel
from ..selectors import frames

# Calls, calls of record and the backtest are per quarter; rollups and KPIs per every kind.
FORECAST_KIND = Period.Kind.QUARTER
RECOMPUTED_KINDS = (Period.Kind.MONTH, Period.Kind.QUARTER, Period.Kind.YEAR)
WINDOW_BEHIND_DAYS = 370
WINDOW_AHEAD_DAYS = 100
HISTORY_PERIODS = 4
KEEP_MODELS = 5
BULK = 5000
Progress = Callable[[str, float], None]


def forecast_periods(*, today: dt.date) -> list[Period]:
    """The periods a full recompute covers, months, quarters and years alike: those around
    today (the last year and the next hundred days) and every one that has deals."""
    around = Q(
        start_on__lte=today + dt.timedelta(days=WINDOW_AHEAD_DAYS),
        end_on__gte=today - dt.timedelta(days=WINDOW_BEHIND_DAYS),
    )
    months = deal_months()
    periods = Period.objects.filter(kind__in=RECOMPUTED_KINDS)
    if not months:
        return list(periods.filter(around).order_by("start_on", "kind"))
    candidates = periods.filter(around | Q(start_on__lte=months[-1], end_on__gte=months[0]))
    return [
        period
        for period in candidates.order_by("start_on", "kind")
        if _is_around(period, today) or _has_month(period, months)
    ]


def window_quarters(*, today: dt.date) -> list[Period]:
    """The quarters around today (the last four, the current one and the next): calls."""
    return list(
        Period.objects.filter(
            kind=FORECAST_KIND,
            start_on__lte=today + dt.timedelta(days=WINDOW_AHEAD_DAYS),
            end_on__gte=today - dt.timedelta(days=WINDOW_BEHIND_DAYS),
        ).order_by("start_on")
    )


def deal_months() -> list[dt.date]:
    """First days of the months in which a deal is expected to close, closed or was created
    (three DISTINCT queries over the deals, a few hundred rows at most)."""
    months: set[dt.date] = set()
    for column in ("expected_close_on", "closed_on", "created_at"):
        rows = (
            Opportunity.objects.exclude(**{f"{column}__isnull": True})
            .annotate(month=TruncMonth(column))
            .order_by()
            .values_list("month", flat=True)
            .distinct()
        )
        months.update(m.date() if isinstance(m, dt.datetime) else m for m in rows)
    return sorted(months)


def _is_around(period: Period, today: dt.date) -> bool:
    return period.start_on <= today + dt.timedelta(
        days=WINDOW_AHEAD_DAYS
    ) and period.end_on >= today - dt.timedelta(days=WINDOW_BEHIND_DAYS)


def _has_month(period: Period, months: list[dt.date]) -> bool:
    """Whether a month of ``months`` overlaps the period (periods need not start on the 1st)."""
    index = bisect.bisect_right(months, period.end_on)
    return index > 0 and shift_months(months[index - 1], 1) > period.start_on


def periods_by_kind(periods: list[Period]) -> dict[str, list[Period]]:
    """``periods`` split by kind: the periods of one kind do not overlap (``assign_period``)."""
    grouped: dict[str, list[Period]] = {}
    for period in sorted(periods, key=lambda p: p.start_on):
        grouped.setdefault(period.kind, []).append(period)
    return grouped


def shift_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def previous_windows(period: Period, count: int = HISTORY_PERIODS) -> list[tuple[dt.date, dt.date]]:
    """The ``count`` periods of the same length before ``period`` (calendar arithmetic)."""
    months = {Period.Kind.MONTH: 1, Period.Kind.QUARTER: 3, Period.Kind.YEAR: 12}[
        Period.Kind(period.kind)
    ]
    windows = []
    for k in range(1, count + 1):
        start = shift_months(period.start_on, -months * k)
        end = shift_months(period.start_on, -months * (k - 1)) - dt.timedelta(days=1)
        windows.append((start, end))
    return windows


def configured_trials() -> int:
    """Monte Carlo trials per node (``FORECASTING_TRIALS``, 10,000 by default)."""
    return int(getattr(settings, "FORECASTING_TRIALS", montecarlo.DEFAULT_TRIALS))


@dataclass
class Context:
    """What one recompute loads once: time, rates, the tree, the model, the settings."""

    now: dt.datetime
    rates: RateTable
    people: pd.DataFrame
    pairs: pd.DataFrame
    params: dict
    trials: int = field(default_factory=lambda: configured_trials())
    seed: int = montecarlo.DEFAULT_SEED
    timings: dict[str, float] = field(default_factory=dict)
    _closed: pd.DataFrame | None = None
    _events: pd.DataFrame | None = None
    _close_changes: pd.DataFrame | None = None
    _tree: montecarlo.Tree | None = None

    def tree(self) -> montecarlo.Tree:
        """Each person's direct reports and depth (``montecarlo.Tree``), built once."""
        if self._tree is None:
            self._tree = montecarlo.Tree.of(self.pairs)
        return self._tree

    def closed_deals(self) -> pd.DataFrame:
        """Every closed deal (``frames.closed_deals_frame``), loaded once per recompute."""
        if self._closed is None:
            self._closed = frames.closed_deals_frame(rates=self.rates)
        return self._closed

    def events(self) -> pd.DataFrame:
        """The whole milestone audit log, loaded once per recompute."""
        if self._events is None:
            self._events = frames.milestone_events_frame()
            self._events["at"] = pd.to_datetime(self._events["at"], utc=True)
        return self._events

    def close_changes(self) -> pd.DataFrame:
        """Every close-date change, loaded once per recompute."""
        if self._close_changes is None:
            self._close_changes = frames.close_date_changes_frame()
        return self._close_changes

    def close_changes_of(self, opportunity_ids: list[int]) -> pd.DataFrame:
        """The close-date changes of these deals: from the whole log when a full run has
        loaded it, else only theirs (1 query) — an edit's run never reads the whole log."""
        if self._close_changes is not None:
            changes = self._close_changes
            return changes[changes["opportunity_id"].isin(opportunity_ids)]
        return frames.close_date_changes_frame(opportunity_ids=opportunity_ids)

    @property
    def today(self) -> dt.date:
        return timezone.localdate(self.now)

    @classmethod
    def load(cls, *, now: dt.datetime | None = None, params: dict | None = None, **kw) -> Context:
        people = frames.people_frame()
        if params is None:
            latest = ProbabilityModel.objects.order_by("-created_at", "-id").first()
            params = latest.params if latest else {}
        return cls(
            now=now or timezone.now(),
            rates=RateTable.load(),
            people=people,
            pairs=rollups.tree_pairs(people),
            params=params,
            **kw,
        )
