"""Keeping the precomputed planning reports fresh (balance, coverage, rebalancing).

The snapshot is the aggregate kind "planning" of the one refresh path (salesmgmt.refresh),
with one key, (0, 0). Every change it depends on inside this app (an applied move, a rule or
territory edit, an assignment run) calls ``planning_mark_changed`` inside its transaction:
that bumps ``PlanningState.generation`` - the version a proposal was computed at, which
applying it checks - and marks the snapshot stale, so one batch a debounce after a burst of
edits recomputes it. A refresh reads the generation before its inputs and records it; a batch
that finds the latest snapshot at the current generation does nothing, so it is safe to run
twice. Changes made outside this app (account edits, deals, activities, rates, the
hierarchy) do not mark it (``changed`` never names it): recomputing every territory's
balance per deal edit costs more than the page needs, and the weekly and nightly forced runs
pick them up, as before.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import replace
from decimal import Decimal
from typing import cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from salesmgmt import refresh
from salesmgmt.errors import ConflictError, PermissionDeniedError
from salesmgmt.models import User
from salesmgmt.money import quantize_money

from .. import selectors
from ..models import (
    AssignmentRun,
    BalanceFigure,
    CoverageFinding,
    PlanningSnapshot,
    PlanningState,
    RebalanceMove,
    RebalanceProposal,
)
from ..permissions import can_plan_assignments
from ..selectors.planning import NEWEST_FIRST, CoverageReport, PlanningResult

logger = logging.getLogger(__name__)

KIND = "planning"
# Older snapshots are kept for a while so a proposal open on someone's page is still found
# (and refused with a clear message if it is out of date) rather than missing.
KEEP_SNAPSHOTS = 3
BULK = 1000
MIN_BAND, MAX_BAND = Decimal("0.01"), Decimal("1")


def planning_mark_changed() -> int:
    """Record a change the reports depend on and mark the snapshot stale.

    Runs inside the caller's transaction; returns the new generation. The UPDATE holds the
    state row until the caller commits, so generations commit in order.
    """
    bump = {"generation": F("generation") + 1, "updated_at": timezone.now()}
    if not PlanningState.objects.filter(pk=1).update(**bump):
        PlanningState.objects.get_or_create(pk=1)
        PlanningState.objects.filter(pk=1).update(**bump)
    refresh.mark_stale(kind=KIND, keys=[(0, 0)])
    return selectors.planning_generation()


def planning_keys_for(change: refresh.Change) -> list[refresh.Key]:
    """No change named through ``refresh.changed`` makes the snapshot stale (module doc)."""
    return []


def planning_refresh_keys(keys: list[refresh.Key]) -> int:
    """The "planning" batch: a new snapshot unless the latest covers every change."""
    return 1 if keys and planning_refresh() is not None else 0


def register() -> None:
    """Register the "planning" kind (TerritoriesConfig.ready)."""
    from django.conf import settings

    refresh.register_kind(
        refresh.AggregateKind(
            name=KIND,
            keys_for=planning_keys_for,
            refresh=planning_refresh_keys,
            debounce_seconds=lambda: settings.REFRESH_DEBOUNCE_SECONDS,
        )
    )


def planning_refresh_request(*, actor: User, band: Decimal | None = None) -> None:
    """Recompute now, from the page: a forced refresh, queued (managers and above)."""
    if not can_plan_assignments(actor):
        raise PermissionDeniedError("Only managers, executives and admins recompute the plan.")
    if band is not None and not MIN_BAND <= band <= MAX_BAND:
        raise ValidationError({"band": "Give a band between 1% and 100%."})
    from ..tasks import refresh_territory_planning

    band_text = str(band) if band is not None else None
    transaction.on_commit(
        lambda: refresh_territory_planning.delay(force=True, band=band_text, requested_by=actor.pk)
    )  # not robust: the person asking should see it fail


def planning_refresh(
    *,
    force: bool = False,
    band: Decimal | None = None,
    requested_by: User | None = None,
    day: dt.date | None = None,
) -> PlanningSnapshot | None:
    """Recompute the reports unless the latest snapshot already covers every change.

    ``force`` recomputes anyway (the scheduled runs, "recompute now"). The band is the latest
    snapshot's unless given: whoever recomputes with another band sets it for everyone.
    Returns the new snapshot, or None when there was nothing to do.
    """
    generation = selectors.planning_generation()
    latest = selectors.latest_snapshot()
    if not force and latest is not None and latest.generation >= generation:
        return None
    if band is None:
        band = latest.band if latest is not None else selectors.balance_band()
    started = time.monotonic()
    result = selectors.planning_compute(day=day or timezone.localdate(), band=band)
    snapshot = _snapshot_save(
        result,
        generation=generation,
        duration_ms=int((time.monotonic() - started) * 1000),
        requested_by=requested_by,
    )
    logger.info(
        "territory planning: snapshot %s (generation %s) in %s ms",
        snapshot.pk,
        generation,
        snapshot.duration_ms,
    )
    return snapshot


def _rule_json(rule) -> dict:
    return {
        "id": rule.rule_id,
        "name": rule.name,
        "priority": rule.priority,
        "territory_id": rule.territory_id,
    }


@transaction.atomic
def _snapshot_save(
    result: PlanningResult,
    *,
    generation: int,
    duration_ms: int,
    requested_by: User | None,
) -> PlanningSnapshot:
    """Write one snapshot with everything in it, then drop the oldest ones."""
    coverage = result.coverage
    snapshot = PlanningSnapshot.objects.create(
        generation=generation,
        effective_on=result.effective_on,
        band=result.band,
        checked_count=coverage.checked_count,
        gap_count=len(coverage.gaps),
        overlap_count=len(coverage.overlaps),
        duration_ms=duration_ms,
        requested_by=requested_by,
    )
    _balance_figures_save(snapshot, result)
    _coverage_findings_save(snapshot, coverage)
    _proposals_save(snapshot, result)
    older = PlanningSnapshot.objects.order_by(*NEWEST_FIRST).values_list("pk", flat=True)
    PlanningSnapshot.objects.filter(pk__in=list(older[KEEP_SNAPSHOTS:])).delete()
    return snapshot


def _balance_figures_save(snapshot: PlanningSnapshot, result: PlanningResult) -> None:
    BalanceFigure.objects.bulk_create(
        [
            BalanceFigure(
                snapshot=snapshot,
                territory_id=row["territory_id"],
                account_count=row["account_count"],
                potential_amount=quantize_money(row["potential"]),
                pipeline_amount=quantize_money(row["pipeline"]),
                bookings_amount=quantize_money(row["bookings"]),
                activity_count=row["activity_count"],
            )
            for row in result.balance.rows
        ],
        batch_size=BULK,
    )


def _coverage_findings_save(snapshot: PlanningSnapshot, coverage: CoverageReport) -> None:
    """The accounts no rule covers (gaps) and those several rules claim (overlaps)."""
    findings = [
        CoverageFinding(snapshot=snapshot, account_id=p.account_id, kind=CoverageFinding.Kind.GAP)
        for p in coverage.gaps
    ] + [
        CoverageFinding(
            snapshot=snapshot,
            account_id=p.account_id,
            kind=CoverageFinding.Kind.OVERLAP,
            is_conflict=p.is_conflict,
            rules=[_rule_json(rule) for rule in p.rules],
        )
        for p in coverage.overlaps
    ]
    CoverageFinding.objects.bulk_create(findings, batch_size=BULK)


def _proposals_save(snapshot: PlanningSnapshot, result: PlanningResult) -> None:
    """One rebalancing proposal per planner scope, with its moves in order."""
    moves: list[RebalanceMove] = []
    for scope, plan in result.plans:
        proposal = RebalanceProposal.objects.create(
            snapshot=snapshot,
            planner_id=scope.planner_id,
            territory_ids=sorted(t.pk for t in scope.territories),
            cv_before=plan.cv_before or 0.0,
            cv_after=plan.cv_after or 0.0,
            is_within_band_after=bool(plan.is_within_band_after),
            fingerprint=plan.fingerprint,
            move_count=len(plan.moves),
        )
        moves.extend(
            RebalanceMove(
                proposal=proposal,
                position=position,
                account_id=move.account_id,
                from_territory_id=cast(int, move.from_territory_id),
                to_territory_id=move.to_territory_id,
                potential_amount=quantize_money(move.potential),
            )
            for position, move in enumerate(plan.moves)
        )
    RebalanceMove.objects.bulk_create(moves, batch_size=BULK)


@transaction.atomic
def rebalance_proposal_apply(
    *,
    actor: User,
    proposal_id: int,
    expected_fingerprint: str,
    move_open_opportunities: bool = False,
) -> AssignmentRun:
    """Apply exactly the stored proposal the actor saw, or refuse if it is out of date.

    Out of date: anything it depends on changed since it was computed (another generation),
    the actor's territories are no longer the ones it compared, or its moves are not the ones
    shown (fingerprint). Each account is also checked, under lock, to still be where the
    proposal found it. The moves take effect today.
    """
    from .assignments import _apply_plan, _ensure_can_plan

    _ensure_can_plan(actor)
    stored = selectors.proposal_get(actor=actor, pk=proposal_id)
    if stored is None:
        raise ConflictError(
            "That rebalancing proposal is no longer available; look at the current one."
        )
    # Taking the next generation locks the state row: two applies of one proposal queue here,
    # and the second finds the first's generation.
    generation = planning_mark_changed()
    if stored.generation != generation - 1 or not stored.is_in_scope:
        raise ConflictError(
            "Territories, rules or assignments changed since this proposal was computed; "
            "apply the recomputed one when it is ready."
        )
    if stored.plan.fingerprint != expected_fingerprint:
        raise ConflictError(
            "The accounts or rules changed since the preview; look at the new preview and "
            "apply again."
        )
    plan = replace(stored.plan, effective_on=timezone.localdate())
    return _apply_plan(
        actor=actor,
        plan=plan,
        expected_fingerprint=expected_fingerprint,
        move_open_opportunities=move_open_opportunities,
        note=f"band ±{(plan.band or 0) * 100:g}%, CV {plan.cv_before:.3f} → {plan.cv_after:.3f}",
    )
