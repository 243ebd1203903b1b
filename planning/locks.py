"""Every row lock of the planning app (one module)."""

from __future__ import annotations

from .models import PlannedHire


def lock_planned_hire(pk: int) -> PlannedHire:
    """The planned hire, locked until the transaction ends (two "Mark hired" queue here)."""
    return PlannedHire.objects.select_for_update().get(pk=pk)
