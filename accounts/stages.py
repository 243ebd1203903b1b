"""Stage derivation: a deal's stage follows from its completed exit milestones.

A deal stands in the first stage (in process order) whose exit milestones are not all
complete; equivalently it has passed the last stage whose exit milestones, and those of every
earlier stage, are all complete. Milestones completed out of order are kept (and flagged
elsewhere as skipped) but cannot carry a deal past a stage whose exit criteria are unmet.
When every stage's criteria are met the deal stands in the last stage.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import MilestoneCompletion


@dataclass(frozen=True)
class StageSpec:
    stage_id: int
    milestone_ids: frozenset[int]


def derive_stage_id(stages: Sequence[StageSpec], completed: Iterable[int]) -> int | None:
    done = set(completed)
    for spec in stages:
        if not spec.milestone_ids <= done:
            return spec.stage_id
    return stages[-1].stage_id if stages else None


def current_completions(
    records: Iterable[MilestoneCompletion],
) -> dict[int, MilestoneCompletion]:
    """The latest completion record per milestone, from records in chronological order."""
    latest: dict[int, MilestoneCompletion] = {}
    for record in records:
        latest[record.milestone_id] = record
    return latest


def closing_stage_index(categories: Sequence[str]) -> int | None:
    """Which of a process's stages (their default forecast categories, in order) is its
    closing stage, whose exit milestones closing won needs: the first Commit stage, else the
    last stage; None without stages."""
    for index, category in enumerate(categories):
        if category == "commit":
            return index
    return len(categories) - 1 if categories else None
