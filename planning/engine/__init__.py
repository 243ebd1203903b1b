"""Sizing the sales force: pure functions over plain dataclasses (no ORM), pandas for sums."""

from .sizing import (
    CoverageLine,
    Overrides,
    PlanInputs,
    Sizing,
    ramped_productivity,
    size,
)

__all__ = ["CoverageLine", "Overrides", "PlanInputs", "Sizing", "ramped_productivity", "size"]
