"""The debounced incremental recompute: requests coalesce per node, one batch runs at a time.

A change asks for (person, period) recomputes; pending rows are unique per node and period, so
a burst of edits leaves one row each. A task scheduled a few seconds later claims everything
pending as one batch (``locks.claim_recompute_requests``) and runs it. A batch killed with its
worker is redelivered (acks_late) and simply runs again; one whose message was lost is
re-enqueued by the reconciler once it has been started for longer than ``STALE_AFTER``.
A finished batch then enqueues one KPI task for its people and periods (KPIs take seconds on
a large organisation, the forecast rollups well under one, so they do not wait for them).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from salesmgmt.models import Period, User

from .. import locks
from ..models import DealProbability, RecomputeRequest
from .context import FORECAST_KIND
from .recompute import recompute_people

logger = logging.getLogger(__name__)

DEBOUNCE_SECONDS = 2
STALE_AFTER = dt.timedelta(minutes=10)


def periods_containing(days: Iterable[dt.date | None]) -> set[int]:
    """Ids of the forecast periods containing any of ``days`` (one query)."""
    wanted = sorted({d for d in days if d is not None})
    if not wanted:
        return set()
    rows = Period.objects.filter(
        kind=FORECAST_KIND, start_on__lte=wanted[-1], end_on__gte=wanted[0]
    ).values_list("pk", "start_on", "end_on")
    return {pk for pk, start, end in rows if any(start <= d <= end for d in wanted)}


def request_recompute(
    *, person_ids: Iterable[int], period_ids: Iterable[int], schedule: bool = True
) -> int:
    """Ask for these nodes' aggregates to be recomputed soon; returns rows asked for.

    ``schedule=False`` only records the requests (the benchmark runs the batch itself).
    """
    # People (or periods) deleted since the change was made need no recompute; asking for them
    # would break the foreign key when the request is written after their deletion committed.
    people = User.objects.filter(pk__in=set(person_ids)).values_list("pk", flat=True)
    periods = Period.objects.filter(pk__in=set(period_ids)).values_list("pk", flat=True)
    rows = [
        RecomputeRequest(person_id=person_id, period_id=period_id)
        for person_id in people
        for period_id in periods
    ]
    if not rows:
        return 0
    # A pending row per node and period already exists? Then this request is already covered.
    RecomputeRequest.objects.bulk_create(rows, ignore_conflicts=True)
    if schedule:
        transaction.on_commit(_schedule)
    return len(rows)


def _schedule() -> None:
    from ..tasks import process_recompute_requests

    # FORECASTING_RECOMPUTE_QUEUE routes the batch to a dedicated worker (None: the default).
    queue = getattr(settings, "FORECASTING_RECOMPUTE_QUEUE", None)
    process_recompute_requests.apply_async(countdown=DEBOUNCE_SECONDS, queue=queue)


def _schedule_kpis(person_ids: list[int], period_ids: list[int]) -> None:
    from ..tasks import recompute_kpis_for_people

    queue = getattr(settings, "FORECASTING_RECOMPUTE_QUEUE", None)
    recompute_kpis_for_people.apply_async(args=[person_ids, period_ids], queue=queue)


def request_recompute_for_deals(
    *,
    opportunity_ids: Iterable[int],
    person_ids: Iterable[int],
    days: Iterable[dt.date | None],
    schedule: bool = True,
) -> int:
    """After deals changed: their owners and periods now, and where they counted before."""
    people, period_ids = set(person_ids), periods_containing(days)
    before = DealProbability.objects.filter(opportunity_id__in=list(opportunity_ids))
    for owner_id, period_id in before.values_list("owner_id", "period_id"):
        people.add(owner_id)
        period_ids.add(period_id)
    return request_recompute(person_ids=people, period_ids=period_ids, schedule=schedule)


def claim_requests(*, now: dt.datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return locks.claim_recompute_requests(now=now, stale_before=now - STALE_AFTER)


def run_requests(*, request_ids: list[int], kpis: bool = True) -> int:
    """Recompute the claimed requests' nodes and mark them finished; safe to run twice.

    ``kpis=False`` leaves out the follow-up KPI task (the benchmark times it on its own).
    """
    requests = RecomputeRequest.objects.filter(pk__in=request_ids, finished_at__isnull=True)
    by_period: dict[int, set[int]] = defaultdict(set)
    for person_id, period_id in requests.values_list("person_id", "period_id"):
        by_period[period_id].add(person_id)
    written = 0
    for period_id, people in by_period.items():
        written += recompute_people(person_ids=sorted(people), period_ids=[period_id])
    RecomputeRequest.objects.filter(pk__in=request_ids, finished_at__isnull=True).update(
        finished_at=timezone.now()
    )
    if by_period and kpis:
        # KPIs follow in a task of their own: slower than the rollups, they must not delay them.
        people = sorted(set().union(*by_period.values()))
        periods = sorted(by_period)
        transaction.on_commit(lambda: _schedule_kpis(people, periods))
    if RecomputeRequest.objects.filter(started_at__isnull=True).exists():
        transaction.on_commit(_schedule)
    return written


def stale_request_ids(*, now: dt.datetime | None = None) -> list[int]:
    """Started but never finished (a lost message or a dead worker): to be run again."""
    now = now or timezone.now()
    stale = RecomputeRequest.objects.filter(
        started_at__lte=now - STALE_AFTER, finished_at__isnull=True
    )
    ids = list(stale.values_list("pk", flat=True))
    # Restart the clock so the next reconciler pass does not enqueue them again at once.
    RecomputeRequest.objects.filter(pk__in=ids).update(started_at=now)
    return ids


def purge_finished(*, older_than: dt.timedelta = dt.timedelta(days=7)) -> int:
    cutoff = timezone.now() - older_than
    deleted, _ = RecomputeRequest.objects.filter(finished_at__lt=cutoff).delete()
    return deleted
