"""Every row lock of the territories app, taken in primary-key order to avoid deadlocks."""

from __future__ import annotations

from accounts.models import Account

from .batching import in_batches
from .models import (
    AccountTerritoryAssignment,
    AssignmentRule,
    AttainmentPeriod,
    Quota,
    RampSchedule,
    Territory,
)


def lock_territory(pk: int) -> Territory:
    return Territory.objects.select_for_update().get(pk=pk)


def lock_accounts(pks: list[int]) -> list[Account]:
    """Lock the accounts in pk order, a batch at a time (sorted first, so the order holds)."""
    locked: list[Account] = []
    for batch in in_batches(sorted(set(pks))):
        locked.extend(Account.objects.select_for_update().filter(pk__in=batch).order_by("pk"))
    return locked


def lock_open_assignments(account_ids: list[int]) -> list[AccountTerritoryAssignment]:
    """Lock the accounts' open assignments, a batch of accounts at a time.

    Callers lock the accounts first (lock_accounts), so two transactions never wait on each
    other's assignment rows: any shared row belongs to an account one of them already holds.
    """
    locked: list[AccountTerritoryAssignment] = []
    for batch in in_batches(sorted(set(account_ids))):
        locked.extend(
            AccountTerritoryAssignment.objects.select_for_update()
            .filter(account_id__in=batch, effective_to__isnull=True)
            .order_by("pk")
        )
    return locked


def lock_quota(*, user_id: int, period_id: int) -> Quota | None:
    return Quota.objects.select_for_update().filter(user_id=user_id, period_id=period_id).first()


def lock_period_quotas(period_id: int) -> list[Quota]:
    return list(Quota.objects.select_for_update().filter(period_id=period_id).order_by("pk"))


def lock_rule(pk: int) -> AssignmentRule:
    return AssignmentRule.objects.select_for_update().get(pk=pk)


def lock_attainment_period(*, period_id: int) -> AttainmentPeriod:
    """Lock a period's attainment state row (one row: no ordering to keep)."""
    return AttainmentPeriod.objects.select_for_update().get(period_id=period_id)


def lock_default_ramp_schedule() -> RampSchedule | None:
    """The default ramp schedule (at most one row: no ordering to keep)."""
    return RampSchedule.objects.select_for_update().filter(is_default=True).first()
