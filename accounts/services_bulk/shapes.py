"""A sales process as an import walks it: stages in order, each with its exit milestones."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..models import Milestone, SalesProcess, Stage
from ..stages import StageSpec, derive_stage_id

# A milestone completed, and the stage the deal stands in once it is (derive_stage_id).
Step = tuple[int, int | None]


@dataclass
class ProcessShape:
    process: SalesProcess
    stages: list[Stage]  # in process order
    milestones: list[list[int]]  # per stage (same order): its exit milestone ids, in order
    specs: list[StageSpec] = field(default_factory=list)
    first_stage_id: int | None = None  # where a new deal starts: no milestone done yet
    _walks: dict[int, list[Step]] = field(default_factory=dict)

    def finish(self) -> None:
        self.specs = [
            StageSpec(stage.pk, frozenset(ids))
            for stage, ids in zip(self.stages, self.milestones, strict=True)
        ]
        self.first_stage_id = derive_stage_id(self.specs, set())

    def position(self, stage_id: int | None) -> int:
        """The stage's place in the process (0 first; -1 for none)."""
        return next((i for i, s in enumerate(self.stages) if s.pk == stage_id), -1)

    def walk(self, done: set[int], target: int) -> list[Step]:
        """The milestones of every stage before position ``target`` not in ``done``, in
        order, each with the stage the deal derives to once it is complete."""
        if not done and target in self._walks:
            return self._walks[target]
        specs, completed = self.specs, set(done)
        steps: list[Step] = []
        for ids in self.milestones[: max(target, 0)]:
            for milestone_id in ids:
                if milestone_id not in completed:
                    completed.add(milestone_id)
                    steps.append((milestone_id, derive_stage_id(specs, completed)))
        if not done:
            self._walks[target] = steps  # the same for every new deal aiming at ``target``
        return steps


def process_shapes(process_ids: Iterable[int]) -> dict[int, ProcessShape]:
    """The processes with their stages and milestones (three queries for all of them)."""
    ids = sorted(set(process_ids))
    if not ids:
        return {}
    shapes = {p.pk: ProcessShape(p, [], []) for p in SalesProcess.objects.filter(pk__in=ids)}
    position: dict[int, tuple[int, int]] = {}
    for stage in Stage.objects.filter(process_id__in=ids).order_by("process_id", "order"):
        shape = shapes[stage.process_id]
        position[stage.pk] = (stage.process_id, len(shape.stages))
        shape.stages.append(stage)
        shape.milestones.append([])
    by_stage: dict[int, list[int]] = defaultdict(list)
    milestones = Milestone.objects.filter(stage__process_id__in=ids).order_by(
        "stage__order", "order", "id"
    )
    for milestone_id, stage_id in milestones.values_list("pk", "stage_id"):
        by_stage[stage_id].append(milestone_id)
    for stage_id, (process_id, index) in position.items():
        shapes[process_id].milestones[index] = by_stage[stage_id]
    for shape in shapes.values():
        shape.finish()
    return shapes
