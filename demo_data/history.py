"""One simulated deal and its replay into an Opportunity row and its change history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from accounts.models import Account, Milestone, Opportunity, OpportunityChange
from accounts.stages import derive_stage_id
from salesmgmt.models import User

from .org import _Rep
from .reference import _Process
from .vocabulary import LEAD_SOURCES, NEXT_STEPS

if TYPE_CHECKING:
    from .builder import DemoDataBuilder


def _cents_text(cents: int) -> str:
    """Money as accounts.services._as_text writes it: quantized to cents."""
    return f"{cents // 100}.{cents % 100:02d}"


@dataclass(slots=True)
class _DealRow:
    """A deal's Opportunity row, values as the model has them (a model instance costs several
    times more to build, a million times at the largest tier)."""

    account_id: int
    owner_id: int
    process_id: int
    stage_id: int
    stage_entered_at: dt.datetime
    name: str
    amount: Decimal
    currency: str
    expected_close_on: dt.date
    status: str
    closed_on: dt.date | None
    lost_reason: str
    forecast_category: str
    next_step: str
    lead_source: str
    version: int
    created_at: dt.datetime
    pk: int = 0


@dataclass
class _Deal:
    """One simulated deal: its draws, then (``replay``) its row and its change history."""

    rep: _Rep
    account: Account
    flow: _Process
    created_t: float
    currency: str
    name: str
    start_cents: int
    amount_cents: int
    close_on: dt.date
    status: str = Opportunity.Status.OPEN
    closed_t: float | None = None
    lost_reason: str = ""
    se: User | None = None
    team: dict[str, list[User]] | None = None
    stage_starts: list[float] = field(default_factory=list)
    completions: list[tuple[float, Milestone]] = field(default_factory=list)
    # (t, priority, field, new value): priority 0 (stage moves) sorts before 1 at equal times.
    events: list[tuple[float, int, str, str]] = field(default_factory=list)
    changes: list[tuple[float, str, str, str]] = field(default_factory=list)

    def close(self, t: float, status: str, reason: str) -> None:
        self.status, self.closed_t, self.lost_reason = status, t, reason

    def replay(self, builder: DemoDataBuilder) -> _DealRow:
        """Turn the events into change rows (old → new) and the deal's final row."""
        F = OpportunityChange.Field
        first_stage = derive_stage_id(self.flow.specs, ())
        # stage moves (the rep chooses no category: the stage's default applies)
        done: set[int] = set()
        stage_id, stage_t = first_stage, self.created_t
        events = list(self.events)
        for t, milestone in sorted(self.completions, key=lambda c: c[0]):
            done.add(milestone.pk)
            derived = derive_stage_id(self.flow.specs, done)
            if derived != stage_id:
                stage_id, stage_t = derived, t
                events.append((t, 0, F.STAGE, str(derived)))
        if self.closed_t is not None:
            events.append((self.closed_t, 1, F.STATUS, self.status))
            events.append((self.closed_t, 1, F.CLOSED_ON, builder.day(self.closed_t).isoformat()))
        created = {
            F.AMOUNT: _cents_text(self.start_cents),
            F.CURRENCY: self.currency,
            F.EXPECTED_CLOSE_ON: self.close_on.isoformat(),
            F.STAGE: str(first_stage),
            F.FORECAST_CATEGORY: "",
            F.OWNER: str(self.rep.user.pk),
            F.STATUS: Opportunity.Status.OPEN,
            F.CLOSED_ON: "",
        }
        # Creation logs every field with a value (as accounts.services does).
        self.changes = [
            (self.created_t, name, "", value) for name, value in created.items() if value
        ]
        state = dict(created)
        writes = set()
        for t, _, name, value in sorted(events, key=lambda e: (e[0], e[1])):
            if state[name] != value:
                self.changes.append((t, name, state[name], value))
                state[name] = value
                writes.add(t)
        closed_on = builder.day(self.closed_t) if self.closed_t is not None else None
        return _DealRow(
            account_id=self.account.pk,
            owner_id=self.rep.user.pk,
            process_id=self.flow.process.pk,
            stage_id=stage_id,
            stage_entered_at=builder.at(stage_t),
            name=self.name,
            amount=Decimal(state[F.AMOUNT]),
            currency=self.currency,
            expected_close_on=dt.date.fromisoformat(state[F.EXPECTED_CLOSE_ON]),
            status=self.status,
            closed_on=closed_on,
            lost_reason=self.lost_reason,
            forecast_category=state[F.FORECAST_CATEGORY],
            next_step=builder.rng.choice(NEXT_STEPS) if self.closed_t is None else "",
            # From the deal's own draws, not the generator: the demo's other figures stay put.
            lead_source=LEAD_SOURCES[self.start_cents // 100 % len(LEAD_SOURCES)],
            version=1 + len(writes),
            created_at=builder.at(self.created_t),
        )
