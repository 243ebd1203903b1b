"""Territories, assignment rules, effective-dated account assignments, balance, and quotas.

Dates: every ``effective_from``/``effective_to`` pair in this app is half-open — a row applies
on ``effective_from <= day < effective_to`` (``effective_to`` empty = still in effect). A move
on day D closes the old row with ``effective_to = D`` and opens the new one from D, so no day
is ever credited twice and two moves on one day leave a zero-length row in the history.

Money: every amount is in the reporting currency, quantized to cents with ROUND_HALF_UP
(salesmgmt.money.quantize_money); allocations split totals in whole cents (quota_rules).
"""

from .assignments import AccountTerritoryAssignment, AssignmentRun, TerritoryBalanceSnapshot
from .attainment import AttainmentFigure, AttainmentPeriod
from .planning import (
    BalanceFigure,
    CoverageFinding,
    PlanningSnapshot,
    PlanningState,
    RebalanceMove,
    RebalanceProposal,
)
from .quotas import CompanyTarget, Quota, QuotaChange, RampSchedule
from .territories import AssignmentRule, Territory, TerritoryOverlay, TerritoryOwnership

__all__ = [
    "AccountTerritoryAssignment",
    "AssignmentRule",
    "AssignmentRun",
    "AttainmentFigure",
    "AttainmentPeriod",
    "BalanceFigure",
    "CompanyTarget",
    "CoverageFinding",
    "PlanningSnapshot",
    "PlanningState",
    "Quota",
    "QuotaChange",
    "RampSchedule",
    "RebalanceMove",
    "RebalanceProposal",
    "Territory",
    "TerritoryBalanceSnapshot",
    "TerritoryOverlay",
    "TerritoryOwnership",
]
