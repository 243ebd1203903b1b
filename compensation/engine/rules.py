"""The engine's vocabulary: rules, inputs, explained lines, and how amounts are worded."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from salesmgmt.money import quantize_money

ZERO = Decimal(0)
ONE = Decimal(1)


class Method(StrEnum):
    MARGINAL = "marginal"
    WHOLE_TIER = "whole_tier"


class LineKind(StrEnum):
    COMMISSION = "commission"
    BONUS = "bonus"
    SPIF = "spif"
    COMPLIANCE = "compliance"
    CLAWBACK = "clawback"
    GUARANTEE = "guarantee"
    DRAW_RECOVERY = "draw_recovery"


# Lines the compliance multiplier scales: what the rep earned this period by selling.
EARNED_KINDS = (LineKind.COMMISSION, LineKind.BONUS, LineKind.SPIF)


# --- words a rep understands ------------------------------------------------------------------


def money(amount: Decimal) -> str:
    return f"{quantize_money(amount):,.2f}"


def percent(fraction: Decimal) -> str:
    """0.125 → "12.5%"; 1 → "100%"."""
    value = (fraction * 100).quantize(Decimal("0.01")).normalize()
    return f"{value:f}%"


# --- rules ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tier:
    floor: Decimal  # attainment fraction where the tier starts (inclusive)
    rate: Decimal  # commission rate as a fraction of credited bookings


@dataclass(frozen=True)
class CommissionRule:
    component_id: int | None
    name: str
    tiers: tuple[Tier, ...]
    method: Method = Method.MARGINAL
    decelerator_below: Decimal | None = None  # attainment fraction
    decelerator_factor: Decimal | None = None  # e.g. 0.5 halves commission below the threshold
    cap_amount: Decimal | None = None  # most commission paid in the period

    def __post_init__(self) -> None:
        if not self.tiers or self.tiers[0].floor != ZERO:
            raise ValueError("The first tier must start at 0% attainment.")
        floors = [tier.floor for tier in self.tiers]
        if floors != sorted(set(floors)):
            raise ValueError("Tier floors must increase.")

    def tier_label(self, index: int) -> str:
        low = percent(self.tiers[index].floor)
        if index + 1 < len(self.tiers):
            return f"{low}-{percent(self.tiers[index + 1].floor)} of quota"
        return f"{low} of quota and above"


@dataclass(frozen=True)
class ThresholdBonusRule:
    component_id: int | None
    name: str
    threshold: Decimal  # attainment fraction
    amount: Decimal


@dataclass(frozen=True)
class SpifRule:
    """A bonus per deal closed in ``start_on``-``end_on`` (inclusive) matching every condition."""

    component_id: int | None
    name: str
    start_on: dt.date
    end_on: dt.date
    fixed_amount: Decimal = ZERO
    rate: Decimal = ZERO  # a fraction of the credited amount
    min_deal_amount: Decimal | None = None
    new_logo_only: bool = False
    # The core has no product catalogue: a product condition matches the deal's name.
    product_keyword: str = ""

    def matches(self, deal: Deal) -> bool:
        if not (self.start_on <= deal.closed_on <= self.end_on):
            return False
        if self.min_deal_amount is not None and deal.deal_amount < self.min_deal_amount:
            return False
        if self.new_logo_only and not deal.is_new_logo:
            return False
        return not self.product_keyword or self.product_keyword.lower() in deal.name.lower()


@dataclass(frozen=True)
class GuaranteeRule:
    """Pays at least ``amount`` (ramping new hires); a recoverable draw is won back later."""

    component_id: int | None
    name: str
    amount: Decimal
    recoverable: bool = False


@dataclass(frozen=True)
class ComplianceRule:
    """Bands of (lowest score, multiplier); the highest band the score reaches applies."""

    component_id: int | None
    name: str
    bands: tuple[tuple[Decimal, Decimal], ...]

    def band_for(self, score: Decimal) -> tuple[Decimal, Decimal]:
        reached = [band for band in self.bands if score >= band[0]]
        return max(reached) if reached else min(self.bands)


Rule = CommissionRule | ThresholdBonusRule | SpifRule | GuaranteeRule | ComplianceRule


# --- inputs and outputs ---------------------------------------------------------------------


@dataclass(frozen=True)
class Deal:
    """A won deal credited to the rep: ``amount`` is their credit, ``deal_amount`` the whole."""

    opportunity_id: int | None  # None for a what-if deal
    name: str
    closed_on: dt.date
    amount: Decimal
    deal_amount: Decimal
    credit_note: str = "owner, 100%"
    is_new_logo: bool = False


@dataclass(frozen=True)
class Clawback:
    """An earlier paid line to reverse because its deal was cancelled within the window."""

    opportunity_id: int
    name: str
    original_line_id: int
    original_amount: Decimal
    original_period: str
    closed_on: dt.date
    cancelled_on: dt.date
    window_days: int
    component_id: int | None = None


@dataclass(frozen=True)
class PayoutInput:
    rep_id: int
    period_name: str
    quota: Decimal | None
    deals: tuple[Deal, ...] = ()
    rules: tuple[Rule, ...] = ()
    compliance_score: Decimal | None = None  # a fraction; None when not measured
    clawbacks: tuple[Clawback, ...] = ()
    outstanding_draw: Decimal = ZERO  # recoverable draw paid earlier and not yet won back
    # Credit reversed this period (negative amounts) for deals won in an earlier one and
    # cancelled in this one: lowers the bookings, earns nothing (pay comes back as clawbacks).
    debits: tuple[Deal, ...] = ()


@dataclass(frozen=True)
class Line:
    kind: LineKind
    amount: Decimal
    explanation: str
    inputs: dict[str, str] = field(default_factory=dict)
    component_id: int | None = None
    opportunity_id: int | None = None
    linked_line_id: int | None = None


@dataclass(frozen=True)
class PayoutResult:
    lines: tuple[Line, ...]
    total: Decimal
    bookings: Decimal
    quota: Decimal | None
    attainment: Decimal | None

    def total_of(self, *kinds: LineKind) -> Decimal:
        return sum((line.amount for line in self.lines if line.kind in kinds), ZERO)
