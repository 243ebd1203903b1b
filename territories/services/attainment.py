"""Keeping the precomputed attainment figures fresh (territories.models.attainment).

Attainment is the aggregate kind "attainment" of the one refresh path (salesmgmt.refresh),
keyed by period: (0, period id). Writers say what they changed (``refresh.changed``);
``attainment_keys_for`` turns that into the periods to recompute and
``attainment_refresh_keys`` recomputes them in one batch, a debounce (REFRESH_DEBOUNCE_SECONDS,
5 s) after the first change of a burst. A refresh rewrites a period's rows as a whole, so
running it twice leaves the same rows; a refresh that started reading later than the stored
figures wins. The refresh path's one-minute sweep runs what a lost message left, and the
nightly run (``attainment_mark_all``) marks every computed period and the current ones, for
writes that bypass the services (admin, imports, bulk updates). Staleness bounds:
territories.selectors.attainment.

Which periods a change makes stale (as the generation counters before them): only periods
computed before, plus the current one - those containing one of its days (a deal's close or
cancellation day), or all of them for a person or a company-wide input (the hierarchy, an
exchange rate) - and the periods it names (a quota, a new period: computed from then on). A
period never computed is read live until a write names it or the nightly run (which marks the
current ones) reaches it.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from salesmgmt import refresh
from salesmgmt.models import Period

from .. import locks, selectors
from ..models import AttainmentFigure, AttainmentPeriod

logger = logging.getLogger(__name__)

KIND = "attainment"
BULK = 1000


@transaction.atomic
def attainment_mark_all() -> int:
    """Mark every computed period and the current ones stale (the nightly run)."""
    return refresh.changed(everything=True, kinds=[KIND])


def _computed_or_current() -> dict[int, tuple[dt.date, dt.date]]:
    """The periods computed before and the current ones, with their bounds."""
    today = timezone.localdate()
    rows = Period.objects.filter(
        Q(attainment_state__isnull=False) | Q(start_on__lte=today, end_on__gte=today)
    ).values_list("pk", "start_on", "end_on")
    return {pk: (start_on, end_on) for pk, start_on, end_on in rows}


def _deal_days(deal_ids: Iterable[int]) -> set[dt.date]:
    """The close and cancellation days of the won deals among ``deal_ids`` (as written now;
    the writer gives the days they had before in ``days``)."""
    from accounts.models import Opportunity
    from compensation.models import DealCancellation

    ids = list(deal_ids)
    won = Opportunity.objects.filter(pk__in=ids, status=Opportunity.Status.WON)
    closed = won.exclude(closed_on=None).values_list("closed_on", flat=True)
    cancelled = DealCancellation.objects.filter(opportunity_id__in=ids).values_list(
        "cancelled_on", flat=True
    )
    return {*closed, *cancelled}


def attainment_keys_for(change: refresh.Change) -> list[refresh.Key]:
    """The periods whose attainment ``change`` moves, as (0, period id) keys.

    The periods named (always: a quota edit, a new period); among the periods computed before
    and the current ones, those containing a day of the change (a deal's, or the close and
    cancellation days of its deals), and all of them for people or company-wide changes.
    Activities are no input of attainment.
    """
    period_ids = set(change.periods)
    days = set(change.days)
    if change.deals:
        days |= _deal_days(change.deals)
    if not (change.everything or change.people or days):
        return [(0, pk) for pk in sorted(period_ids)]
    kept = _computed_or_current()
    if change.everything or change.people:
        period_ids |= set(kept)
    # Periods are few (17 a year): match the days here rather than in one OR per day.
    period_ids |= {
        pk for pk, (start_on, end_on) in kept.items() if any(start_on <= d <= end_on for d in days)
    }
    return [(0, pk) for pk in sorted(period_ids)]


def attainment_refresh_keys(keys: list[refresh.Key]) -> int:
    """Recompute the periods of a batch of "attainment" keys; returns the periods stored."""
    period_ids = sorted({period for _, period in keys if period})
    done = 0
    for period in Period.objects.filter(pk__in=period_ids).order_by("pk"):
        if attainment_refresh(period=period) is not None:
            done += 1
    return done


def attainment_refresh(*, period: Period) -> AttainmentPeriod | None:
    """Recompute the period's figures and store them.

    Returns the state row, or None when a refresh that started reading later had already
    stored its figures (they are newer than these).
    """
    # Before any input: every change committed up to now is in what follows.
    read_at = timezone.now()
    started = time.monotonic()
    figures = selectors.attainment_compute_all(period=period)
    duration_ms = int((time.monotonic() - started) * 1000)
    saved = _figures_save(
        period_id=period.pk, figures=figures, read_at=read_at, duration_ms=duration_ms
    )
    if saved is not None:
        logger.info("attainment: period %s refreshed in %s ms", period.pk, duration_ms)
    return saved


@transaction.atomic
def _figures_save(
    *,
    period_id: int,
    figures: list[selectors.Attainment],
    read_at: dt.datetime,
    duration_ms: int,
) -> AttainmentPeriod | None:
    """Replace the period's rows with ``figures`` (a short transaction: no computing here)."""
    AttainmentPeriod.objects.get_or_create(period_id=period_id, defaults={"computed_at": read_at})
    # The state row orders two refreshes of one period: the later reader's figures stay.
    state = locks.lock_attainment_period(period_id=period_id)
    if state.computed_at is not None and state.computed_at > read_at:
        return None
    AttainmentFigure.objects.filter(period_id=period_id).delete()
    AttainmentFigure.objects.bulk_create(
        [
            AttainmentFigure(
                period_id=period_id,
                user_id=figure.user_id,
                bookings=figure.bookings,
                quota=figure.quota,
                ramped_quota=figure.ramped_quota,
                is_explicit=figure.is_explicit,
                computed_at=read_at,
            )
            for figure in figures
        ],
        batch_size=BULK,
    )
    state.computed_at = read_at
    state.duration_ms = duration_ms
    state.save(update_fields=["computed_at", "duration_ms", "updated_at"])
    return state


def attainment_refresh_all() -> list[int]:
    """Recompute every period computed before and the current ones, now (seeding, the
    reconciliation's refresh). Returns the period ids stored."""
    refreshed = []
    for period in Period.objects.filter(pk__in=list(_computed_or_current())).order_by("pk"):
        if attainment_refresh(period=period) is not None:
            refreshed.append(period.pk)
    return refreshed


def register() -> None:
    """Register the "attainment" kind (TerritoriesConfig.ready)."""
    from django.conf import settings

    refresh.register_kind(
        refresh.AggregateKind(
            name=KIND,
            keys_for=attainment_keys_for,
            refresh=attainment_refresh_keys,
            debounce_seconds=lambda: settings.REFRESH_DEBOUNCE_SECONDS,
        )
    )
