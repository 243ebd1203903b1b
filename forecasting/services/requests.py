"""The debounced incremental recompute: requests coalesce per node, one batch runs at a time.

A change asks for (person, period) recomputes; pending rows are unique per node and period, so
a burst of edits leaves one row each. A task scheduled a few seconds later claims everything
pending as one batch (``locks.claim_recompute_requests``) and runs it. A batch killed with its
worker is redelivered (acks_late) and simply runs again; one whose message was lost is
re-enqueued by the reconciler once it has been started for longer than ``STALE_AFTER``.
A finished batch then asks for its people's KPI rows (``KpiRequest``, coalesced the same way).

KPIs are slower (0.5-1 s of CPU per batch on a 100-rep organisation however few people it
has: their ancestors' subtree rows, up to the top, are figures over everybody's history, and
medians do not update incrementally) and slower-moving,
so they are debounced harder: one task claims every pending KPI request at most every
``FORECASTING_KPI_DEBOUNCE_SECONDS`` (60 by default). Bound: a KPI row reflects an edit within
that window plus the rollup debounce and the two computations (seconds), unless a KPI batch is
in flight (then when it ends) or the broker is down (then the reconciler's next pass, five
minutes). The rollups keep their own bound (about a second) and never wait for KPIs; the
nightly full recompute stays the source of truth for both.
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
from salesmgmt.task_queue import enqueue

from .. import locks
from ..models import DealProbability, KpiRequest, RecomputeRequest
from .context import FORECAST_KIND, Context
from .kpis import kpis_recompute_for_people
from .recompute import forecast_recompute_people

logger = logging.getLogger(__name__)

DEBOUNCE_SECONDS = 2
KPI_DEBOUNCE_SECONDS = 60
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
    # Broker down? The pending rows stay; ``reconcile_recomputes`` (beat) processes them.
    enqueue(process_recompute_requests, countdown=DEBOUNCE_SECONDS, queue=queue)


def kpi_debounce_seconds() -> float:
    """How long KPI requests pile up before one batch runs them (``FORECASTING_KPI_...``)."""
    return float(getattr(settings, "FORECASTING_KPI_DEBOUNCE_SECONDS", KPI_DEBOUNCE_SECONDS))


def request_kpis(
    *, person_ids: Iterable[int], period_ids: Iterable[int], schedule: bool = True
) -> int:
    """Ask for these people's KPI rows (and their ancestors') to be recomputed within the window."""
    people = User.objects.filter(pk__in=set(person_ids)).values_list("pk", flat=True)
    periods = Period.objects.filter(pk__in=set(period_ids)).values_list("pk", flat=True)
    rows = [
        KpiRequest(person_id=person_id, period_id=period_id)
        for person_id in people
        for period_id in periods
    ]
    if not rows:
        return 0
    KpiRequest.objects.bulk_create(rows, ignore_conflicts=True)
    if schedule:
        transaction.on_commit(_schedule_kpis)
    return len(rows)


def _schedule_kpis(countdown: float | None = None) -> None:
    from ..tasks import process_kpi_requests

    queue = getattr(settings, "FORECASTING_RECOMPUTE_QUEUE", None)
    # One cheap task per request: it claims nothing until the oldest pending row is due, so
    # however many arrive, the KPIs run once per window. Broker down? The reconciler sends it.
    countdown = kpi_debounce_seconds() if countdown is None else countdown
    enqueue(process_kpi_requests, countdown=countdown, queue=queue)


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
    # One context per batch, not per period: the tree, rates and model are the same for all.
    ctx = Context.load() if by_period else None
    for period_id, people in by_period.items():
        written += forecast_recompute_people(
            person_ids=sorted(people), period_ids=[period_id], ctx=ctx
        )
    RecomputeRequest.objects.filter(pk__in=request_ids, finished_at__isnull=True).update(
        finished_at=timezone.now()
    )
    if by_period and kpis:
        # KPIs follow, debounced on their own: slower than the rollups, they must not delay them.
        request_kpis(person_ids=set().union(*by_period.values()), period_ids=by_period)
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
    kpi_deleted, _ = KpiRequest.objects.filter(finished_at__lt=cutoff).delete()
    return deleted + kpi_deleted


def claim_kpi_requests(*, now: dt.datetime | None = None) -> list[int]:
    """Every pending KPI request, once the oldest has waited the debounce window (else [])."""
    now = now or timezone.now()
    return locks.claim_kpi_requests(
        now=now,
        due_before=now - dt.timedelta(seconds=kpi_debounce_seconds()),
        stale_before=now - STALE_AFTER,
    )


def run_kpi_requests(*, request_ids: list[int]) -> int:
    """Recompute the claimed requests' KPI rows and mark them finished; safe to run twice."""
    requests = KpiRequest.objects.filter(pk__in=request_ids, finished_at__isnull=True)
    people: set[int] = set()
    periods: set[int] = set()
    for person_id, period_id in requests.values_list("person_id", "period_id"):
        people.add(person_id)
        periods.add(period_id)
    written = 0
    if people:
        # One computation for the whole batch: people x periods is a superset of the pairs
        # asked for, and the rows of a pair not asked for are rewritten to the same figures.
        written = kpis_recompute_for_people(person_ids=sorted(people), period_ids=sorted(periods))
    KpiRequest.objects.filter(pk__in=request_ids, finished_at__isnull=True).update(
        finished_at=timezone.now()
    )
    _schedule_next_kpi_batch()
    return written


def _schedule_next_kpi_batch() -> None:
    """Requests that arrived while this batch ran: their own tasks found it in flight."""
    oldest = (
        KpiRequest.objects.filter(started_at__isnull=True)
        .order_by("requested_at")
        .values_list("requested_at", flat=True)
        .first()
    )
    if oldest is not None:
        due_in = (oldest - timezone.now()).total_seconds() + kpi_debounce_seconds()
        transaction.on_commit(lambda: _schedule_kpis(countdown=max(due_in, 0.0)))


def stale_kpi_request_ids(*, now: dt.datetime | None = None) -> list[int]:
    """KPI requests started but never finished: to be run again (clock restarted)."""
    now = now or timezone.now()
    stale = KpiRequest.objects.filter(started_at__lte=now - STALE_AFTER, finished_at__isnull=True)
    ids = list(stale.values_list("pk", flat=True))
    KpiRequest.objects.filter(pk__in=ids).update(started_at=now)
    return ids
