"""Where a rep stands in their programme: each step done or not, when, whether overdue.

Pure: steps, stored completions and the rep's practice milestones in, progress out (no ORM),
so the figures are tested by hand without a database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .models import ProgrammeStep, StepCompletion


@dataclass(frozen=True)
class StepState:
    step: ProgrammeStep
    due_on: dt.date
    done_on: dt.date | None
    completion: StepCompletion | None = None
    # Practice steps: the deal on which the rep completed the milestone.
    deal_id: int | None = None

    @property
    def is_done(self) -> bool:
        return self.done_on is not None

    def is_overdue(self, today: dt.date) -> bool:
        return not self.is_done and today > self.due_on


@dataclass
class Progress:
    started_on: dt.date
    today: dt.date
    states: list[StepState] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.states)

    @property
    def done(self) -> int:
        return sum(1 for state in self.states if state.is_done)

    @property
    def percent(self) -> int:
        """Steps done in whole percent, rounded down (100 only when every step is done)."""
        return 100 * self.done // self.total if self.total else 0

    @property
    def next_step(self) -> StepState | None:
        """The first step in curriculum order not done yet."""
        return next((state for state in self.states if not state.is_done), None)

    @property
    def overdue(self) -> list[StepState]:
        return [state for state in self.states if state.is_overdue(self.today)]

    @property
    def is_complete(self) -> bool:
        return self.total > 0 and self.done == self.total


def progress_of(
    *,
    steps: list[ProgrammeStep],
    completions: list[StepCompletion],
    practice: dict[int, list[tuple[dt.date, int]]],
    started_on: dt.date,
    today: dt.date,
) -> Progress:
    """One enrolment's progress.

    ``steps`` in curriculum order; ``completions`` the enrolment's stored completions (modules,
    certifications); ``practice`` maps a milestone id to the days (ascending) the rep completed
    it on one of their own deals, with the deal. The first on or after ``started_on`` counts:
    a milestone done before the programme started is not practice in it.
    """
    by_step = {completion.step_id: completion for completion in completions}
    states = []
    for step in steps:
        due_on = started_on + dt.timedelta(days=step.due_after_days)
        if step.kind == ProgrammeStep.Kind.PRACTICE:
            done = next(
                (hit for hit in practice.get(step.milestone_id or 0, []) if hit[0] >= started_on),
                None,
            )
            states.append(
                StepState(
                    step=step,
                    due_on=due_on,
                    done_on=done[0] if done else None,
                    deal_id=done[1] if done else None,
                )
            )
        else:
            completion = by_step.get(step.pk)
            states.append(
                StepState(
                    step=step,
                    due_on=due_on,
                    done_on=completion.completed_on if completion else None,
                    completion=completion,
                )
            )
    return Progress(started_on=started_on, today=today, states=states)
