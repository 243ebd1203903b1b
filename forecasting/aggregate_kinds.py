"""The forecasting app's aggregate kinds on the one refresh path (salesmgmt.refresh).

``rollups``: the forecast rollups (own and subtree rows, ranges) of a (person, period). A deal
change marks its owners and credited people now and where it counted before (its
``DealProbability`` rows) in the forecast periods containing the change's days, the deal's
close dates and where it counted before: the month, quarter and year of each of those days
(never the periods it leaves alone). Not debounced: an edit reaches the rollup in about a
second with a worker. Each batch then marks the same keys of ``kpis``.

``kpis``: the KPI rows of a (person, period) and those above them. Slower to compute (medians
over everybody's history do not update incrementally) and slower-moving, so a batch runs at
most once per ``FORECASTING_KPI_DEBOUNCE_SECONDS`` (60 by default) over everything that piled
up in it. Activities count in the KPIs only: an activity change marks only this kind.

Both batches go to ``FORECASTING_RECOMPUTE_QUEUE`` (None: the default queue). The nightly full
recompute stays the source of truth for both.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone

from accounts.models import Activity, Opportunity
from salesmgmt import refresh
from salesmgmt.models import Period, Role, User

from .models import DealProbability, ForecastRollup
from .services.context import RECOMPUTED_KINDS, Context, forecast_periods
from .services.kpis import kpis_recompute_for_people
from .services.recompute import forecast_recompute_people, people_scores

ROLLUPS = "rollups"
KPIS = "kpis"
KPI_DEBOUNCE_SECONDS = 60
# Above this many people a rollup batch scores each period's deals on its own (memory).
SHARED_SCORES_MAX_PEOPLE = 200


def periods_containing(days: Iterable[dt.date | None]) -> set[int]:
    """Ids of the periods (month, quarter, year) containing any of ``days`` (one query)."""
    wanted = sorted({d for d in days if d is not None})
    if not wanted:
        return set()
    rows = Period.objects.filter(
        kind__in=RECOMPUTED_KINDS, start_on__lte=wanted[-1], end_on__gte=wanted[0]
    ).values_list("pk", "start_on", "end_on")
    # A day inside [start, end]: the last wanted day not after the end is not before the start
    # (an import names thousands of days; no product of periods and days).
    return {
        pk
        for pk, start, end in rows
        if (i := bisect.bisect_right(wanted, end)) and wanted[i - 1] >= start
    }


def _covered_periods() -> set[int]:
    return {p.pk for p in forecast_periods(today=timezone.localdate())}


def _everyone() -> set[int]:
    return set(User.objects.exclude(role=Role.INTEGRATOR).values_list("pk", flat=True))


def _deal_inputs(deal_ids: frozenset[int]) -> tuple[set[int], set[int]]:
    """People and periods of deals, now (owner, credited people, close dates) and before."""
    from compensation.models import CreditSplit

    people: set[int] = set()
    days: list[dt.date | None] = []
    rows = Opportunity.objects.filter(pk__in=deal_ids).values_list(
        "owner_id", "expected_close_on", "closed_on"
    )
    for owner_id, expected_close_on, closed_on in rows:
        people.add(owner_id)
        days += [expected_close_on, closed_on]
    # The forecast's closed amount is the credit ledger's: split holders' rows move too.
    credited = CreditSplit.objects.filter(opportunity_id__in=deal_ids)
    people.update(credited.values_list("user_id", flat=True))
    periods = periods_containing(days)
    before = DealProbability.objects.filter(opportunity_id__in=deal_ids)
    for owner_id, period_id in before.values_list("owner_id", "period_id"):
        people.add(owner_id)
        periods.add(period_id)
    return people, periods


def rollup_keys(change: refresh.Change) -> list[refresh.Key]:
    """The (person, period) rollups a change makes stale (people x periods, as it always was)."""
    first: set[int] = set()  # periods getting their first figures: everyone's rows
    if change.everything:
        people, periods = _everyone(), _covered_periods()
    else:
        people, periods = set(change.people), set(change.periods)
        periods |= periods_containing(change.days)
        if change.deals:
            deal_people, deal_periods = _deal_inputs(change.deals)
            people |= deal_people
            periods |= deal_periods
            # A deal in a period that had no figures puts it in the full recompute's periods,
            # which writes everyone's rows of it: so does this batch.
            first = deal_periods - set(
                ForecastRollup.objects.filter(period_id__in=deal_periods)
                .values_list("period_id", flat=True)
                .distinct()
            )
        if people and not periods:
            periods = _covered_periods()  # a person's input in no period: all of them
        elif periods and not people:
            # A period's own input (a new period): everyone's rows of it, where the full
            # recompute keeps figures (around today, or holding deals); others have none to
            # store (the pages say "no deal in it"), and sixty new fiscal years would otherwise
            # recompute a thousand empty periods.
            people = _everyone()
            periods &= _covered_periods()
    keys = {(person, period) for person in people for period in periods}
    if first:
        keys |= {(person, period) for person in _everyone() for period in first}
    return sorted(keys)


def refresh_rollups(keys: list[refresh.Key]) -> int:
    """Recompute the rollups per period with one Context, then mark their KPI rows stale."""
    by_period: dict[int, set[int]] = defaultdict(set)
    for person, period in keys:
        by_period[period].add(person)
    # One context per batch, not per period: the tree, rates and model are the same for all.
    ctx = Context.load()
    written = 0
    # The quarters first (the page's default period, and the calls'), then months and years:
    # each period commits on its own, so an edit shows in its quarter as fast as it used to.
    rank = {Period.Kind.QUARTER: 0, Period.Kind.MONTH: 1, Period.Kind.YEAR: 2}
    periods = list(Period.objects.filter(pk__in=list(by_period)))
    order = {p.pk: (rank.get(p.kind, 3), p.start_on) for p in periods}
    owners = sorted(set().union(*by_period.values()))
    # An edit's batch: its deals loaded and scored once for all its periods (its month,
    # quarter and year hold the same deals), not once a period. A batch over many people (a
    # rate or tree change: everyone) keeps one period's deals in memory at a time instead.
    scored = (
        people_scores(periods=periods, ctx=ctx, owner_ids=owners)
        if periods and len(owners) <= SHARED_SCORES_MAX_PEOPLE
        else None
    )
    for period_id, people in sorted(
        by_period.items(), key=lambda item: (order.get(item[0], (4, dt.date.min)), item[0])
    ):
        written += forecast_recompute_people(
            person_ids=sorted(people), period_ids=[period_id], ctx=ctx, scored=scored
        )
    # KPIs follow, debounced on their own: slower than the rollups, they must not delay them.
    refresh.mark_stale(kind=KPIS, keys=keys)
    return written


def kpi_keys(change: refresh.Change) -> list[refresh.Key]:
    """Activities: their owner in the periods containing their day (they are in no rollup)."""
    if not change.activities:
        return []
    keys: set[refresh.Key] = set()
    rows = Activity.objects.filter(pk__in=change.activities).values_list("owner_id", "occurred_at")
    for owner_id, at in rows:
        day = timezone.localdate(at) if timezone.is_aware(at) else at.date()
        keys.update((owner_id, period) for period in periods_containing([day]))
    return sorted(keys)


def refresh_kpis(keys: list[refresh.Key]) -> int:
    """One computation for the batch: people x periods is a superset of the keys asked for,
    and the rows of a pair not asked for are rewritten to the same figures."""
    people = sorted({person for person, _ in keys})
    periods = sorted({period for _, period in keys})
    return kpis_recompute_for_people(person_ids=people, period_ids=periods)


def kpi_debounce_seconds() -> float:
    return float(getattr(settings, "FORECASTING_KPI_DEBOUNCE_SECONDS", KPI_DEBOUNCE_SECONDS))


def recompute_queue() -> str | None:
    # FORECASTING_RECOMPUTE_QUEUE routes the batches to a dedicated worker (None: the default).
    return getattr(settings, "FORECASTING_RECOMPUTE_QUEUE", None)


def register() -> None:
    """Called from ForecastingConfig.ready."""
    refresh.register_kind(
        refresh.AggregateKind(
            name=ROLLUPS, keys_for=rollup_keys, refresh=refresh_rollups, queue=recompute_queue
        )
    )
    refresh.register_kind(
        refresh.AggregateKind(
            name=KPIS,
            keys_for=kpi_keys,
            refresh=refresh_kpis,
            debounce_seconds=kpi_debounce_seconds,
            queue=recompute_queue,
        )
    )
