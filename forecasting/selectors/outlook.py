"""A deal's win probability with the three biggest drivers, for the deal page and the API.

The probability is the stored one (``DealProbability``, written by the recompute); the
drivers split it with the latest fitted model (``analytics.probability.explain``). For any
number of deals: the model (1 query), their pushes (1) and their processes' milestone
counts (1) — never a query per deal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from django.db.models import Count, F

from accounts.models import Milestone, Opportunity, OpportunityChange

from ..analytics import probability
from ..models import DealProbability, ProbabilityModel

TOP_DRIVERS = 3
LABELS = {
    "milestones": "Milestones",
    "age": "Age",
    "owner_record": "Owner's track record",
    "pushes": "Close date pushes",
}


@dataclass(frozen=True)
class Driver:
    name: str
    label: str
    effect: float  # change in win probability (0.12 = +12 points)
    detail: str


@dataclass(frozen=True)
class DealOutlook:
    opportunity_id: int
    probability: float
    base: float
    milestones_done: int
    milestones_total: int
    age_days: int
    pushes: int
    computed_at: dt.datetime
    drivers: list[Driver]


def _pushes(opportunity_ids: list[int]) -> dict[int, int]:
    """Times each deal's close date moved later (ISO dates compare as text)."""
    rows = (
        OpportunityChange.objects.filter(
            opportunity_id__in=opportunity_ids,
            field=OpportunityChange.Field.EXPECTED_CLOSE_ON,
            new_value__gt=F("old_value"),
        )
        .exclude(old_value="")
        .order_by()
        .values("opportunity_id")
        .annotate(n=Count("id"))
    )
    return {row["opportunity_id"]: row["n"] for row in rows}


def _milestone_totals(process_ids: set[int]) -> dict[int, int]:
    rows = (
        Milestone.objects.filter(stage__process_id__in=process_ids)
        .order_by()
        .values("stage__process_id")
        .annotate(n=Count("id"))
    )
    return {row["stage__process_id"]: row["n"] for row in rows}


def _details(row: dict, cycle: float) -> dict[str, str]:
    done, total = int(row["milestones_done"]), int(row["milestones_total"])
    pushes = int(row["pushes"])
    return {
        "milestones": f"{done} of {total} milestones done, {max(total - done, 0)} missing",
        "age": f"open {round(row['age_ratio'] * cycle)} days; a typical win takes {round(cycle)}",
        "owner_record": "the owner's wins and losses in this process",
        "pushes": f"close date pushed {pushes} time{'s' if pushes != 1 else ''}",
    }


def outlooks_for(rows: Sequence[DealProbability]) -> dict[int, DealOutlook]:
    """The outlook of each open deal among ``rows`` (with their ``opportunity`` loaded),
    by opportunity id. 3 queries whatever the number of rows (none without open rows)."""
    open_rows = [r for r in rows if r.opportunity.status == Opportunity.Status.OPEN]
    if not open_rows:
        return {}
    model = ProbabilityModel.objects.order_by("-created_at", "-id").only("params").first()
    params = model.params if model else {}
    ids = [r.opportunity_id for r in open_rows]
    pushes = _pushes(ids)
    totals = _milestone_totals({r.opportunity.process_id for r in open_rows})
    deals = pd.DataFrame(
        {
            "opportunity_id": ids,
            "process_id": [r.opportunity.process_id for r in open_rows],
            "owner_id": [r.opportunity.owner_id for r in open_rows],
            "milestones_done": [r.milestones_done for r in open_rows],
            "milestones_total": [totals.get(r.opportunity.process_id, 0) for r in open_rows],
            "age_ratio": [r.age_ratio for r in open_rows],
            "pushes": [pushes.get(r.opportunity_id, 0) for r in open_rows],
        }
    )
    effects = probability.explain(deals, params)
    cycles = params.get("cycles", {})
    out = {}
    for stored, row, effect in zip(
        open_rows, deals.to_dict("records"), effects.to_dict("records"), strict=True
    ):
        cycle = float(cycles.get(str(row["process_id"]), 30.0))
        details = _details(row, cycle)
        drivers = sorted(
            (
                Driver(name, LABELS[name], float(effect[f"{name}_effect"]), details[name])
                for name in probability.DRIVERS
            ),
            key=lambda d: -abs(d.effect),  # stable: ties keep the model's order
        )
        out[stored.opportunity_id] = DealOutlook(
            opportunity_id=stored.opportunity_id,
            probability=stored.probability,
            base=float(effect["base"]),
            milestones_done=int(row["milestones_done"]),
            milestones_total=int(row["milestones_total"]),
            age_days=round(row["age_ratio"] * cycle),
            pushes=int(row["pushes"]),
            computed_at=stored.computed_at,
            drivers=drivers[:TOP_DRIVERS],
        )
    return out


def deal_outlook(*, opportunity: Opportunity) -> DealOutlook | None:
    """The outlook of one deal the caller has fetched through visibility; None when it is
    closed or its probability is not computed yet. 4 queries (1 when there is none)."""
    stored = DealProbability.objects.filter(opportunity=opportunity).first()
    if stored is None:
        return None
    stored.opportunity = opportunity  # the caller's deal: not read again
    return outlooks_for([stored]).get(opportunity.pk)
