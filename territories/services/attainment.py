"""Keeping the precomputed attainment figures fresh (territories.models.attainment).

Every change attainment depends on calls ``attainment_mark_changed`` inside its transaction:
a deal won, or a won deal's amount, currency or owner edited (accounts.services); a quota
edit or allocation (services.quotas); a manager change or an exchange rate
(salesmgmt.services). That bumps the generation of each affected period already computed
and, once committed, queues a refresh REFRESH_DELAY_SECONDS later, so a burst of edits is
covered by the first refresh that runs after it and the rest find nothing to do. A refresh
reads the generation before its inputs and records it; it rewrites the period's rows as a
whole, so running it twice leaves the same rows. The five-minute sweep re-runs what a lost
message left stale, and the nightly forced run picks up writes that bypass the services
(admin, imports, bulk updates). Staleness bounds: territories.selectors.attainment.

Only periods computed before are marked (a never-computed one is read live until its first
refresh); a change committing while a period's very first refresh is reading may be missed
by it, and is then caught by the nightly forced run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from salesmgmt.models import Period
from salesmgmt.task_queue import enqueue

from .. import locks, selectors
from ..models import AttainmentFigure, AttainmentPeriod

logger = logging.getLogger(__name__)

# Seconds between a change and its refresh: edits made together are covered by one run.
REFRESH_DELAY_SECONDS = 5
BULK = 1000


def attainment_mark_changed(
    *, period_ids: Iterable[int] | None = None, days: Iterable | None = None
) -> list[int]:
    """Record a change to attainment inputs and refresh the periods affected after commit.

    The periods are those given and those containing one of ``days`` (empty days are
    ignored); with neither argument, every period (hierarchy and exchange-rate changes).
    Only periods already computed are marked: one never computed is computed live until its
    first refresh. Runs inside the caller's transaction; returns the state rows bumped.
    """
    if period_ids is None and days is None:
        condition = Q()
    else:
        condition = Q(period_id__in=list(period_ids or []))
        for day in days or []:
            if day is not None:
                condition |= Q(period__start_on__lte=day, period__end_on__gte=day)
    # Locked in pk order first: two changes touching overlapping periods never deadlock.
    state_ids = locks.lock_attainment_periods(condition)
    if not state_ids:
        return []
    AttainmentPeriod.objects.filter(pk__in=state_ids).update(
        generation=F("generation") + 1, updated_at=timezone.now()
    )
    # robust: with the broker down the change still succeeds; the sweep catches up.
    transaction.on_commit(_schedule_refresh, robust=True)
    return state_ids


def _schedule_refresh() -> None:
    from ..tasks import refresh_attainment

    enqueue(refresh_attainment, countdown=REFRESH_DELAY_SECONDS)


def attainment_refresh(*, period: Period, force: bool = False) -> AttainmentPeriod | None:
    """Recompute the period's figures unless the last refresh already covers every change.

    ``force`` recomputes anyway (the nightly run, seeding). Returns the state row, or None
    when there was nothing to do or a newer refresh had already stored its figures.
    """
    state, _ = AttainmentPeriod.objects.get_or_create(period=period)
    if not force and not state.is_stale:
        return None
    # Read before any input: every change committed up to it is in what follows.
    generation = state.generation
    started = time.monotonic()
    figures = selectors.attainment_compute_all(period=period)
    duration_ms = int((time.monotonic() - started) * 1000)
    saved = _figures_save(
        state_id=state.pk, figures=figures, generation=generation, duration_ms=duration_ms
    )
    if saved is not None:
        logger.info(
            "attainment: period %s (generation %s) refreshed in %s ms",
            period.pk,
            generation,
            duration_ms,
        )
    return saved


@transaction.atomic
def _figures_save(
    *, state_id: int, figures: list[selectors.Attainment], generation: int, duration_ms: int
) -> AttainmentPeriod | None:
    """Replace the period's rows with ``figures`` (a short transaction: no computing here)."""
    locks.lock_attainment_periods(Q(pk=state_id))
    state = AttainmentPeriod.objects.get(pk=state_id)
    if state.computed_generation is not None and state.computed_generation > generation:
        return None  # a refresh that started later already stored newer figures
    now = timezone.now()
    AttainmentFigure.objects.filter(period_id=state.period_id).delete()
    AttainmentFigure.objects.bulk_create(
        [
            AttainmentFigure(
                period_id=state.period_id,
                user_id=figure.user_id,
                bookings=figure.bookings,
                quota=figure.quota,
                ramped_quota=figure.ramped_quota,
                is_explicit=figure.is_explicit,
                computed_at=now,
            )
            for figure in figures
        ],
        batch_size=BULK,
    )
    state.computed_generation = generation
    state.computed_at = now
    state.duration_ms = duration_ms
    state.save(update_fields=["computed_generation", "computed_at", "duration_ms", "updated_at"])
    return state


def attainment_refresh_all(*, force: bool = False, include_current: bool = False) -> list[int]:
    """Refresh every period computed before (the stale ones, or all with ``force``).

    ``include_current`` adds the periods containing today, computed or not (seeding, the
    nightly run), so the pages find figures from their first view. Returns the period ids
    refreshed.
    """
    periods = Period.objects.filter(attainment_state__isnull=False)
    if include_current:
        today = timezone.localdate()
        periods = Period.objects.filter(
            Q(attainment_state__isnull=False) | Q(start_on__lte=today, end_on__gte=today)
        )
    refreshed = []
    for period in periods.distinct().order_by("pk"):
        if attainment_refresh(period=period, force=force) is not None:
            refreshed.append(period.pk)
    return refreshed
