"""Writes of the compensation app: credit, cancellations, payout runs, approval, disputes.

Every write is keyword-only, runs in a transaction and checks who may do it:

- credit splits and cancellations: the deal owner's managers, executives and admins;
- computing and processing runs: executives and admins (or the worker, with no actor);
- approving a statement and adjusting a locked one: the rep's managers, executives, admins;
- raising a dispute: the rep of the statement; resolving it: the rep's managers and above.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Opportunity
from salesmgmt import refresh, webhooks
from salesmgmt.audit import audit_record
from salesmgmt.errors import ApplicationError, ConflictError, PermissionDeniedError
from salesmgmt.models import Period, Role, User, WebhookEvent
from salesmgmt.money import parse_money, quantize_money
from salesmgmt.visibility import manages

from . import engine, locks
from .inputs import inputs_hash as fingerprint
from .inputs import payout_inputs
from .models import (
    CreditSplit,
    DealCancellation,
    Dispute,
    PayoutRun,
    Statement,
    StatementAdjustment,
    StatementLine,
)

RUN_ROLES = (Role.EXECUTIVE, Role.ADMIN)


def _ensure_manages(actor: User, person_or_id: User, what: str) -> None:
    if not manages(actor, person_or_id):
        raise PermissionDeniedError(f"Only {person_or_id}'s managers can {what}.")


def _ensure_runs_payouts(actor: User | None) -> None:
    if actor is not None and not (actor.is_superuser or actor.role in RUN_ROLES):
        raise PermissionDeniedError("Only executives and admins run payouts.")


# --- credit -----------------------------------------------------------------------------------


def deal_credit_mark_changed(
    *,
    opportunity: Opportunity,
    person_ids: Sequence[int] = (),
    days: Sequence[dt.date | None] = (),
) -> None:
    """The deal's ledger rows changed: mark every aggregate built on them stale.

    Through the one refresh path (salesmgmt.refresh): the deal (its owner, everyone credited
    now, its close and cancellation days), the people credited before (``person_ids``) and
    the days it was booked in before (``days``). Runs in the caller's transaction.
    """
    if opportunity.status != Opportunity.Status.WON:
        return  # no ledger rows: nothing was credited
    cancelled_on = (
        DealCancellation.objects.filter(opportunity=opportunity)
        .values_list("cancelled_on", flat=True)
        .first()
    )
    all_days = [opportunity.closed_on, cancelled_on, *days]
    people = {
        opportunity.owner_id,
        *person_ids,
        *CreditSplit.objects.filter(opportunity=opportunity).values_list("user_id", flat=True),
    }
    refresh.changed(deals=[opportunity.pk], people=people, days=all_days)


@transaction.atomic
def credit_splits_set(
    *, actor: User, opportunity: Opportunity, splits: Sequence[tuple[User, Decimal]]
) -> list[CreditSplit]:
    """Replace the deal's credit splits, all or nothing; an empty list credits the owner 100%."""
    _ensure_manages(actor, opportunity.owner, "split the credit of their deals")
    people = [user.pk for user, _ in splits]
    if len(set(people)) != len(people):
        raise ValidationError({"splits": "Each person can appear once."})
    percents = [Decimal(str(percent)) for _, percent in splits]
    if any(p <= 0 or p > 100 for p in percents):
        raise ValidationError({"splits": "Each share is more than 0% and at most 100%."})
    if splits and sum(percents) != 100:
        raise ValidationError(
            {"splits": f"The shares add up to {sum(percents)}%; they must add up to 100%."}
        )
    previous = list(
        CreditSplit.objects.filter(opportunity=opportunity).values_list("user_id", flat=True)
    )
    CreditSplit.objects.filter(opportunity=opportunity).delete()
    rows = []
    for user, percent in zip((u for u, _ in splits), percents, strict=True):
        row = CreditSplit(opportunity=opportunity, user=user, percent=percent)
        row.full_clean()
        row.save()
        rows.append(row)
    # Whoever was credited before loses their share: their figures are stale too.
    deal_credit_mark_changed(opportunity=opportunity, person_ids=previous)
    return rows


@transaction.atomic
def deal_cancellation_record(
    *, actor: User, opportunity: Opportunity, cancelled_on: dt.date, reason: str
) -> DealCancellation:
    """Record that the customer cancelled a won deal: the ledger debits its credit on
    ``cancelled_on`` (compensation.ledger) and later runs claw its pay back."""
    _ensure_manages(actor, opportunity.owner, "record a cancellation of their deals")
    if opportunity.status != Opportunity.Status.WON:
        raise ValidationError("Only a won deal can be cancelled.")
    if opportunity.closed_on is not None and cancelled_on < opportunity.closed_on:
        raise ValidationError({"cancelled_on": "A deal is cancelled after it closed."})
    if DealCancellation.objects.filter(opportunity=opportunity).exists():
        raise ConflictError(f"{opportunity} is already recorded as cancelled.")
    cancellation = DealCancellation(
        opportunity=opportunity,
        cancelled_on=cancelled_on,
        reason=reason.strip(),
        recorded_by=actor,
    )
    cancellation.full_clean()
    cancellation.save()
    deal_credit_mark_changed(opportunity=opportunity, days=[cancelled_on])
    return cancellation


# --- payout runs ------------------------------------------------------------------------------


def _locked_rep_ids(period: Period) -> set[int]:
    return set(
        Statement.objects.filter(run__period=period, status=Statement.Status.LOCKED).values_list(
            "rep_id", flat=True
        )
    )


def _write_statement(run: PayoutRun, rep_inputs, result: engine.PayoutResult) -> Statement:
    statement = Statement.objects.create(
        run=run,
        rep=rep_inputs.rep,
        plan=rep_inputs.plan,
        status=Statement.Status.DRAFT,
        bookings_amount=quantize_money(result.bookings),
        quota_amount=result.quota,
        attainment=None
        if result.attainment is None
        else result.attainment.quantize(Decimal("0.000001")),
        compliance_score=rep_inputs.payout.compliance_score.quantize(Decimal("0.000001")),
        total_amount=result.total,
    )
    StatementLine.objects.bulk_create(
        StatementLine(
            statement=statement,
            position=position,
            component_id=line.component_id,
            opportunity_id=line.opportunity_id,
            kind=line.kind,
            amount=line.amount,
            explanation=line.explanation,
            inputs=line.inputs,
            linked_line_id=line.linked_line_id,
        )
        for position, line in enumerate(result.lines, start=1)
    )
    return statement


@transaction.atomic
def payout_run_compute(*, period: Period, actor: User | None = None) -> PayoutRun:
    """Compute (or recompute) the period's draft run; idempotent.

    The lines are rebuilt from scratch in a fixed order, so a recompute over the same data
    leaves the same rows; when the inputs' fingerprint has not changed nothing is rewritten.
    People whose statement for the period is locked are left out: a locked statement changes
    only through adjustments.
    """
    _ensure_runs_payouts(actor)
    run, _ = PayoutRun.objects.get_or_create(period=period, status=PayoutRun.Status.DRAFT)
    run = locks.lock_run(run.pk)
    locked = _locked_rep_ids(period)
    inputs = {uid: rep for uid, rep in payout_inputs(period=period).items() if uid not in locked}
    digest = fingerprint(inputs)
    if run.computed_at is not None and run.inputs_hash == digest:
        return run
    run.statements.all().delete()
    for _, rep_inputs in sorted(inputs.items()):
        _write_statement(run, rep_inputs, rep_inputs.calculate())
    run.inputs_hash = digest
    run.computed_at = timezone.now()
    run.save(update_fields=["inputs_hash", "computed_at", "updated_at"])
    return run


@transaction.atomic
def payout_run_process(*, run: PayoutRun, actor: User | None = None) -> PayoutRun:
    """Freeze a draft run (recomputed first) into an immutable snapshot awaiting approval."""
    _ensure_runs_payouts(actor)
    run = locks.lock_run(run.pk)
    if not run.is_draft:
        raise ConflictError(f"{run} is already processed; compute a new run for changes.")
    payout_run_compute(period=run.period, actor=actor)
    run.status = PayoutRun.Status.PROCESSED
    run.processed_at = timezone.now()
    run.processed_by = actor
    run.save(update_fields=["status", "processed_at", "processed_by", "updated_at"])
    run.statements.update(status=Statement.Status.PROCESSED, updated_at=run.processed_at)
    for statement in run.statements.order_by("pk"):
        webhooks.emit(WebhookEvent.STATEMENT_READY, subject=statement)
    return run


# --- approval and adjustments ----------------------------------------------------------------


@transaction.atomic
def statement_approve(*, actor: User, statement: Statement) -> Statement:
    """The manager's approval, which locks the statement for the period."""
    statement = locks.lock_statement(statement.pk)
    _ensure_manages(actor, statement.rep, "approve their statement")
    if statement.status == Statement.Status.DRAFT:
        raise ApplicationError(
            "A draft statement can change; approve it once its run is processed."
        )
    if statement.is_locked:
        raise ConflictError("This statement is already approved and locked.")
    statement.status = Statement.Status.LOCKED
    statement.approved_by = actor
    statement.approved_at = timezone.now()
    statement.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
    audit_record(action="statement.approved", actor=actor, target=statement)
    webhooks.emit(WebhookEvent.STATEMENT_APPROVED, subject=statement)
    return statement


@transaction.atomic
def statement_adjustment_add(
    *, actor: User, statement: Statement, amount: Decimal, reason: str
) -> StatementAdjustment:
    """The only change a locked statement accepts: an amount with a reason."""
    statement = locks.lock_statement(statement.pk)
    _ensure_manages(actor, statement.rep, "adjust their statement")
    if not statement.is_locked:
        raise ApplicationError("Only a locked statement takes adjustments; recompute the run.")
    value = parse_money(amount, field="amount", signed=True)
    if not value:
        raise ValidationError({"amount": "An adjustment cannot be zero."})
    adjustment = StatementAdjustment(
        statement=statement, amount=value, reason=reason.strip(), created_by=actor
    )
    adjustment.full_clean()
    adjustment.save()
    audit_record(
        action="statement.adjusted",
        actor=actor,
        target=statement,
        details={"amount": value, "reason": adjustment.reason},
    )
    return adjustment


# --- disputes ---------------------------------------------------------------------------------


@transaction.atomic
def dispute_raise(*, actor: User, line: StatementLine, text: str) -> Dispute:
    """A rep questions a line of their own processed statement."""
    statement = locks.lock_statement(line.statement_id)
    if statement.rep_id != actor.pk:
        raise PermissionDeniedError("Only the rep can dispute a line of their statement.")
    if statement.status == Statement.Status.DRAFT:
        raise ApplicationError("A draft statement can still change; dispute it once processed.")
    if not text.strip():
        raise ValidationError({"text": "Say what is wrong with this line."})
    if Dispute.objects.filter(line=line, status=Dispute.Status.OPEN).exists():
        raise ConflictError("This line already has an open dispute.")
    dispute = Dispute(line=line, raised_by=actor, text=text.strip())
    dispute.full_clean()
    dispute.save()
    webhooks.emit(WebhookEvent.DISPUTE_RAISED, subject=dispute)
    return dispute


@transaction.atomic
def dispute_resolve(*, actor: User, dispute: Dispute, note: str) -> Dispute:
    """The manager answers a dispute; a correction, if any, is a separate adjustment."""
    dispute = (
        Dispute.objects.select_for_update()
        .select_related("line__statement__rep")
        .get(pk=dispute.pk)
    )
    _ensure_manages(actor, dispute.line.statement.rep, "resolve their disputes")
    if dispute.status != Dispute.Status.OPEN:
        raise ConflictError("This dispute is already resolved.")
    if not note.strip():
        raise ValidationError({"resolution_note": "Write how the dispute was resolved."})
    dispute.status = Dispute.Status.RESOLVED
    dispute.resolution_note = note.strip()
    dispute.resolved_by = actor
    dispute.resolved_at = timezone.now()
    dispute.full_clean()
    dispute.save()
    webhooks.emit(WebhookEvent.DISPUTE_RESOLVED, subject=dispute)
    return dispute
