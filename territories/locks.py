"""Every row lock of the territories app, taken in primary-key order to avoid deadlocks."""

from __future__ import annotations

from accounts.models import Account

from .models import AccountTerritoryAssignment, AssignmentRule, Quota, Territory


def lock_territory(pk: int) -> Territory:
    return Territory.objects.select_for_update().get(pk=pk)


def lock_accounts(pks: list[int]) -> list[Account]:
    return list(Account.objects.select_for_update().filter(pk__in=pks).order_by("pk"))


def lock_open_assignments(account_ids: list[int]) -> list[AccountTerritoryAssignment]:
    return list(
        AccountTerritoryAssignment.objects.select_for_update()
        .filter(account_id__in=account_ids, effective_to__isnull=True)
        .order_by("pk")
    )


def lock_quota(*, user_id: int, period_id: int) -> Quota | None:
    return Quota.objects.select_for_update().filter(user_id=user_id, period_id=period_id).first()


def lock_period_quotas(period_id: int) -> list[Quota]:
    return list(Quota.objects.select_for_update().filter(period_id=period_id).order_by("pk"))


def lock_rule(pk: int) -> AssignmentRule:
    return AssignmentRule.objects.select_for_update().get(pk=pk)
