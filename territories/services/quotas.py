"""Writes for quotas and company targets; every change to a quota is audited."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from salesmgmt import refresh, webhooks
from salesmgmt.audit import audit_record
from salesmgmt.errors import ConflictError, PermissionDeniedError
from salesmgmt.models import Period, User, WebhookEvent
from salesmgmt.money import parse_money, quantize_money

from .. import locks, selectors
from ..models import CompanyTarget, Quota, QuotaChange, RampSchedule
from ..permissions import can_edit_quota_of, can_set_company_target
from ..quota_rules import ramp_factor, ramped_amount

AUDITED_FIELDS = (
    "basis", "territory", "territory_quota", "assignment_share", "ramp_factor",
    "manager_adjustment", "amount",
)  # fmt: skip
EDITABLE_FIELDS = {"basis", "territory_quota", "assignment_share", "manager_adjustment", "amount"}


def _as_text(quota: Quota, name: str) -> str:
    value = getattr(quota, f"{name}_id" if name == "territory" else name)
    return "" if value is None else str(value)


def _state(quota: Quota) -> dict[str, str]:
    return {name: _as_text(quota, name) for name in AUDITED_FIELDS}


def _record(
    quota: Quota, before: dict[str, str], *, actor: User | None, reason: str, source: str
) -> list[QuotaChange]:
    after = _state(quota)
    now = timezone.now()
    rows = [
        QuotaChange(
            quota=quota,
            field=name,
            old_value=before.get(name, ""),
            new_value=after[name],
            reason=reason[:255],
            source=source,
            changed_by=actor,
            changed_at=now,
        )
        for name in AUDITED_FIELDS
        if before.get(name, "") != after[name]
    ]
    QuotaChange.objects.bulk_create(rows)
    return rows


def _decimal(value: object, field: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: "Enter a number."}) from None
    if not number.is_finite():
        raise ValidationError({field: "Enter a number."})
    return number


def _recompute(quota: Quota, period: Period, person: User) -> None:
    """Keep ``amount`` in step with the terms (components) or at zero (derived)."""
    if quota.basis == Quota.Basis.COMPONENTS:
        quota.ramp_factor = ramp_factor(
            hire_date=person.hire_date,
            start_on=period.start_on,
            end_on=period.end_on,
            percentages=selectors.ramp_percentages(),
        )
        quota.amount = ramped_amount(
            quota.territory_quota,
            quota.assignment_share,
            quota.ramp_factor,
            quota.manager_adjustment,
        )
        if quota.amount < 0:
            raise ValidationError(
                {"manager_adjustment": "The adjustment would make the quota negative."}
            )
    elif quota.basis == Quota.Basis.DERIVED:
        quota.amount = Decimal(0)


def _quota_for_update(person: User, period: Period) -> tuple[Quota, dict[str, str]]:
    quota = locks.lock_quota(user_id=person.pk, period_id=period.pk)
    if quota is None:
        has_team = User.objects.filter(manager=person).exists()
        quota = Quota(
            user=person,
            period=period,
            basis=Quota.Basis.DERIVED if has_team else Quota.Basis.COMPONENTS,
        )
        return quota, {}
    return quota, _state(quota)


def _apply_terms(quota: Quota, changes: dict[str, object]) -> None:
    """Set the changed terms; each kind of term decides the quota's basis."""
    if "amount" in changes and changes["amount"] is not None:
        quota.basis = Quota.Basis.EXPLICIT
        amount = _decimal(changes.pop("amount"), "amount")
        if amount < 0:
            raise ValidationError({"amount": "A quota cannot be negative."})
        quota.amount = parse_money(amount, field="amount")
    else:
        changes.pop("amount", None)
    for name in ("territory_quota", "manager_adjustment"):
        if name in changes:
            signed = name == "manager_adjustment"  # a delta on top of the formula
            setattr(quota, name, parse_money(changes.pop(name), field=name, signed=signed))
            quota.basis = Quota.Basis.COMPONENTS
    if "assignment_share" in changes:
        share = _decimal(changes.pop("assignment_share"), "assignment_share")
        if not Decimal(0) <= share <= 1:
            raise ValidationError({"assignment_share": "The share is between 0 and 1."})
        quota.assignment_share = share
        quota.basis = Quota.Basis.COMPONENTS
    if "basis" in changes:
        quota.basis = str(changes.pop("basis"))


@transaction.atomic
def quota_update(
    *,
    actor: User,
    person: User,
    period: Period,
    reason: str,
    expected_version: int | None = None,
    source: str = QuotaChange.Source.EDIT,
    **changes: object,
) -> Quota:
    """Change a person's quota for a period; each changed term is audited with ``reason``.

    ``amount`` sets an explicit quota; ``basis="derived"`` hands a manager's quota back to
    the sum of their team; the component terms (territory quota, share, adjustment) make it
    a formula quota again. The ramp factor always follows the ramp schedule.
    """
    if not can_edit_quota_of(actor, person):
        raise PermissionDeniedError("Only a person's managers, executives and admins set quotas.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the quota changes."})
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    quota, before = _quota_for_update(person, period)
    if expected_version is not None and quota.pk and expected_version != quota.version:
        raise ConflictError(
            f"The quota of {person} was changed by someone else (version {quota.version}, you "
            f"had {expected_version}). Reload and try again."
        )
    _apply_terms(quota, changes)
    _recompute(quota, period, person)
    quota.version = (quota.version or 0) + 1 if quota.pk else 1
    quota.full_clean(validate_unique=False)
    quota.save()
    _record(quota, before, actor=actor, reason=reason, source=source)
    audit_record(
        action="quota.updated",
        actor=actor,
        target=quota,
        details={"amount": quota.amount, "version": quota.version, "reason": reason},
    )
    refresh.changed(people=[person.pk], periods=[period.pk])
    webhooks.emit(
        WebhookEvent.QUOTA_CHANGED,
        subject=quota,
        data={"version": quota.version, "reason": reason, "amount": str(quota.amount)},
    )
    return quota


@transaction.atomic
def company_target_allocate(
    *,
    actor: User,
    period: Period,
    amount: Decimal,
    method: str,
    reason: str = "",
) -> CompanyTarget:
    """Set the company target for ``period`` and allocate it to the territory owners.

    The quotas written are exactly those ``selectors.allocation_preview`` shows; each
    owner's quota changes are audited. Formula quotas of people who no longer own a
    territory drop their territory quota, so the territory quotas of the period add up to
    the target to the cent.
    """
    if not can_set_company_target(actor):
        raise PermissionDeniedError("Only executives and admins set the company target.")
    if method not in CompanyTarget.Method.values:
        raise ValidationError({"method": "Choose historical, potential or even."})
    amount = parse_money(amount, field="amount")
    preview = selectors.allocation_preview(period=period, amount=amount, method=method)
    target, _ = CompanyTarget.objects.update_or_create(
        period=period,
        defaults={
            "amount": amount,
            "method": method,
            "allocated_by": actor,
            "allocated_at": timezone.now(),
        },
    )
    why = f"{period} target {amount} allocated by {CompanyTarget.Method(method).label.lower()}"
    if reason.strip():
        why = f"{why}: {reason.strip()}"
    existing = {q.user_id: q for q in locks.lock_period_quotas(period.pk)}
    # Everyone whose quota of the period may change: the new owners and the old quotas.
    refresh.changed(
        people=[*existing, *(line.person.pk for line in preview.people)], periods=[period.pk]
    )
    owners = _owner_quotas_save(preview, existing, period=period, actor=actor, why=why)
    _former_owner_quotas_clear(existing, owners, actor=actor, why=why)
    return target


def _owner_quotas_save(
    preview: selectors.AllocationPreview,
    existing: dict[int, Quota],
    *,
    period: Period,
    actor: User,
    why: str,
) -> set[int]:
    """Write each territory owner's quota as the preview shows it; returns the owners' ids."""
    owners = set()
    for line in preview.people:
        owners.add(line.person.pk)
        quota = existing.get(line.person.pk) or Quota(user=line.person, period=period)
        before = _state(quota) if quota.pk else {}
        quota.basis = Quota.Basis.COMPONENTS
        quota.territory = line.territory
        quota.territory_quota = line.territory_quota
        quota.assignment_share = line.assignment_share
        quota.manager_adjustment = line.manager_adjustment
        quota.ramp_factor = line.ramp_factor
        quota.amount = line.amount
        quota.version = (quota.version or 0) + 1 if quota.pk else 1
        quota.full_clean(validate_unique=False)
        quota.save()
        _record(quota, before, actor=actor, reason=why, source=QuotaChange.Source.ALLOCATION)
    return owners


def _former_owner_quotas_clear(
    existing: dict[int, Quota], owners: set[int], *, actor: User, why: str
) -> None:
    """Formula quotas of people who own no territory now keep only their adjustment, so the
    period's territory quotas add up to the target."""
    for user_id, quota in existing.items():
        if user_id in owners or quota.basis != Quota.Basis.COMPONENTS:
            continue
        if not quota.territory_quota and quota.territory_id is None:
            continue
        before = _state(quota)
        quota.territory = None
        quota.territory_quota = Decimal(0)
        quota.amount = max(quantize_money(quota.manager_adjustment), Decimal(0))
        quota.version += 1
        quota.save()
        _record(
            quota,
            before,
            actor=actor,
            reason=f"{why} (owns no territory)",
            source=QuotaChange.Source.ALLOCATION,
        )


@transaction.atomic
def ramp_schedule_set_default(*, percentages: Sequence[int | float], name: str) -> RampSchedule:
    """Set the default ramp schedule's monthly percentages (creating it as ``name``).

    The default schedule is the one home of a new hire's ramp: allocation, quota terms and
    the planning hire flow all read it (``selectors.ramp_percentages``). Quotas already
    written keep the factor they were computed with (their audit log says which).
    """
    schedule = locks.lock_default_ramp_schedule()
    if schedule is None:
        schedule = RampSchedule(name=name, is_default=True)
    schedule.monthly_percentages = list(percentages)
    schedule.full_clean()
    schedule.save()
    return schedule
