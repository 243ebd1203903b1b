"""Every row lock of the compensation app, taken in primary-key order."""

from __future__ import annotations

from .models import PayoutRun, Statement


def lock_run(pk: int) -> PayoutRun:
    return PayoutRun.objects.select_for_update().select_related("period").get(pk=pk)


def lock_statement(pk: int) -> Statement:
    return Statement.objects.select_for_update().select_related("run", "rep").get(pk=pk)


def lock_run_statements(run_id: int) -> list[Statement]:
    return list(Statement.objects.select_for_update().filter(run_id=run_id).order_by("pk"))
