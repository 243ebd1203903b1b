"""The payout engine: plan rules and one rep's period inputs in, explained line items out.

Pure Python (dataclasses and ``Decimal``), no ORM: payout runs (``compensation.services``)
and the what-if calculator both call ``calculate`` with inputs gathered by
``compensation.inputs``, so a what-if is the real run plus hypothetical deals, never a copy.

Rounding rule (the one rule for every payout amount): each line is computed at full
``Decimal`` precision and quantized once to cents with ROUND_HALF_UP
(``salesmgmt.money.quantize_money``); a statement's total is the sum of its quantized lines,
so the lines always add up to the total exactly, to the cent.

Order of the lines, which is also the order rules apply in:

1. commission per credited deal (tiers by attainment, marginal or whole-tier; then an
   optional decelerator below a threshold; then an optional cap on the period's commission);
2. threshold bonuses; 3. SPIFs;
4. the documentation-compliance multiplier, one line scaling the sum of lines 1-3;
5. clawbacks (negative lines reversing a cancelled deal's earlier pay);
6. the guarantee (a top-up to the guaranteed amount) or the recovery of an earlier draw.

Attainment = credited bookings / quota, as a fraction (1 = 100 %). A tier applies from its
``floor`` (inclusive) to the next tier's floor (exclusive); in money, a tier starts at
``floor x quota``. With no quota the attainment is unknown: every booking is paid at the first
tier's rate and attainment-based rules (higher tiers, bonuses, decelerators) do not apply.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
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


# --- the calculation ------------------------------------------------------------------------


def attainment_of(bookings: Decimal, quota: Decimal | None) -> Decimal | None:
    if not quota:
        return None
    return bookings / quota


def calculate(payout: PayoutInput) -> PayoutResult:
    """Every line of one rep's payout for one period, in the order of the module docstring."""
    deals = sorted(payout.deals, key=lambda d: (d.closed_on, d.opportunity_id or 0, d.name))
    bookings = sum((deal.amount for deal in deals), ZERO)
    attainment = attainment_of(bookings, payout.quota)
    lines: list[Line] = []
    for rule in payout.rules:
        if isinstance(rule, CommissionRule):
            lines += _commission_lines(rule, deals, payout.quota, attainment)
    for rule in payout.rules:
        if isinstance(rule, ThresholdBonusRule):
            lines += _bonus_lines(rule, attainment)
    for rule in payout.rules:
        if isinstance(rule, SpifRule):
            lines += _spif_lines(rule, deals)
    for rule in payout.rules:
        if isinstance(rule, ComplianceRule):
            lines.append(_compliance_line(rule, lines, payout.compliance_score))
    lines += [_clawback_line(clawback) for clawback in payout.clawbacks]
    for rule in payout.rules:
        if isinstance(rule, GuaranteeRule):
            lines += _guarantee_lines(rule, lines, payout.outstanding_draw)
    total = sum((line.amount for line in lines), ZERO)
    return PayoutResult(
        lines=tuple(lines),
        total=total,
        bookings=bookings,
        quota=payout.quota,
        attainment=attainment,
    )


def _tier_index(rule: CommissionRule, attainment: Decimal | None) -> int:
    if attainment is None:
        return 0
    return max(i for i, tier in enumerate(rule.tiers) if attainment >= tier.floor)


def _marginal_slices(
    rule: CommissionRule, start: Decimal, amount: Decimal, quota: Decimal | None
) -> list[tuple[int, Decimal]]:
    """The deal's bookings ``start``..``start + amount`` cut at the tier boundaries."""
    if not quota:
        return [(0, amount)]
    end = start + amount
    slices = []
    for i, tier in enumerate(rule.tiers):
        low = tier.floor * quota
        high = rule.tiers[i + 1].floor * quota if i + 1 < len(rule.tiers) else None
        part = (end if high is None else min(end, high)) - max(start, low)
        if part > 0:
            slices.append((i, part))
    return slices


def _commission_lines(
    rule: CommissionRule,
    deals: Sequence[Deal],
    quota: Decimal | None,
    attainment: Decimal | None,
) -> list[Line]:
    decelerated = (
        rule.decelerator_below is not None
        and rule.decelerator_factor is not None
        and attainment is not None
        and attainment < rule.decelerator_below
    )
    reached = _tier_index(rule, attainment)
    lines: list[Line] = []
    paid = ZERO
    before = ZERO
    for deal in deals:
        if rule.method == Method.WHOLE_TIER:
            rate = rule.tiers[reached].rate
            raw = deal.amount * rate
            words = (
                f"Whole-tier: your attainment reached the {rule.tier_label(reached)} tier, so "
                f"all bookings earn {percent(rate)}: {money(deal.amount)} x {percent(rate)} "
                f"= {money(raw)}"
            )
        else:
            slices = _marginal_slices(rule, before, deal.amount, quota)
            raw = sum((part * rule.tiers[i].rate for i, part in slices), ZERO)
            pieces = [
                f"{money(part)} at {percent(rule.tiers[i].rate)} ({rule.tier_label(i)}) "
                f"= {money(part * rule.tiers[i].rate)}"
                for i, part in slices
            ]
            words = (
                f"Marginal tiers: your bookings went from {money(before)} to "
                f"{money(before + deal.amount)}; " + (" + ".join(pieces) or "nothing to pay")
            )
        before += deal.amount
        if decelerated:
            raw *= rule.decelerator_factor
            words += (
                f"; x {rule.decelerator_factor} decelerator because attainment "
                f"{percent(attainment)} is below {percent(rule.decelerator_below)}"
            )
        amount = quantize_money(raw)
        if rule.cap_amount is not None and paid + amount > rule.cap_amount:
            capped = max(rule.cap_amount - paid, ZERO)
            words += (
                f"; the period's commission is capped at {money(rule.cap_amount)}, so this "
                f"line pays {money(capped)} instead of {money(amount)}"
            )
            amount = capped
        paid += amount
        lines.append(
            Line(
                kind=LineKind.COMMISSION,
                amount=amount,
                explanation=f"{rule.name} on {deal.name} (credit: {deal.credit_note}). {words}.",
                inputs={
                    "credited_amount": str(deal.amount),
                    "closed_on": deal.closed_on.isoformat(),
                    "method": str(rule.method),
                    "bookings_before": str(before - deal.amount),
                    "quota": "" if quota is None else str(quota),
                },
                component_id=rule.component_id,
                opportunity_id=deal.opportunity_id,
            )
        )
    return lines


def _bonus_lines(rule: ThresholdBonusRule, attainment: Decimal | None) -> list[Line]:
    if attainment is None or attainment < rule.threshold:
        return []
    return [
        Line(
            kind=LineKind.BONUS,
            amount=quantize_money(rule.amount),
            explanation=(
                f"{rule.name}: attainment {percent(attainment)} reached the "
                f"{percent(rule.threshold)} threshold, which pays {money(rule.amount)}."
            ),
            inputs={"attainment": str(attainment), "threshold": str(rule.threshold)},
            component_id=rule.component_id,
        )
    ]


def _spif_lines(rule: SpifRule, deals: Sequence[Deal]) -> list[Line]:
    lines = []
    for deal in deals:
        if not rule.matches(deal):
            continue
        raw = rule.fixed_amount + deal.amount * rule.rate
        parts = []
        if rule.fixed_amount:
            parts.append(f"{money(rule.fixed_amount)} fixed")
        if rule.rate:
            parts.append(f"{money(deal.amount)} x {percent(rule.rate)}")
        lines.append(
            Line(
                kind=LineKind.SPIF,
                amount=quantize_money(raw),
                explanation=(
                    f"{rule.name}: {deal.name} closed {deal.closed_on.isoformat()} within "
                    f"{rule.start_on.isoformat()}-{rule.end_on.isoformat()} and meets the "
                    f"conditions; {' + '.join(parts) or '0.00'} = {money(raw)}."
                ),
                inputs={"credited_amount": str(deal.amount), "closed_on": str(deal.closed_on)},
                component_id=rule.component_id,
                opportunity_id=deal.opportunity_id,
            )
        )
    return lines


def _compliance_line(rule: ComplianceRule, lines: list[Line], score: Decimal | None) -> Line:
    earned = sum((line.amount for line in lines if line.kind in EARNED_KINDS), ZERO)
    if score is None:
        low, multiplier = ONE, ONE
        words = "no documentation compliance score was measured, so the payout is unchanged"
    else:
        low, multiplier = rule.band_for(score)
        words = (
            f"your documentation compliance score {percent(score)} is in the band from "
            f"{percent(low)}, which scales this period's earnings by {multiplier}"
        )
    amount = quantize_money(earned * (multiplier - ONE))
    return Line(
        kind=LineKind.COMPLIANCE,
        amount=amount,
        explanation=(
            f"{rule.name}: {words}; {money(earned)} x ({multiplier} - 1) = {money(amount)}."
        ),
        inputs={
            "score": "" if score is None else str(score),
            "multiplier": str(multiplier),
            "earned": str(earned),
        },
        component_id=rule.component_id,
    )


def _clawback_line(clawback: Clawback) -> Line:
    amount = -quantize_money(clawback.original_amount)
    return Line(
        kind=LineKind.CLAWBACK,
        amount=amount,
        explanation=(
            f"Clawback: {clawback.name} closed {clawback.closed_on.isoformat()} and was "
            f"cancelled {clawback.cancelled_on.isoformat()}, within the {clawback.window_days}-day "
            f"window, so the {money(clawback.original_amount)} paid on your "
            f"{clawback.original_period} statement is reversed."
        ),
        inputs={
            "original_amount": str(clawback.original_amount),
            "closed_on": clawback.closed_on.isoformat(),
            "cancelled_on": clawback.cancelled_on.isoformat(),
            "window_days": str(clawback.window_days),
        },
        component_id=clawback.component_id,
        opportunity_id=clawback.opportunity_id,
        linked_line_id=clawback.original_line_id,
    )


def _guarantee_lines(rule: GuaranteeRule, lines: list[Line], outstanding: Decimal) -> list[Line]:
    net = sum((line.amount for line in lines), ZERO)
    guaranteed = quantize_money(rule.amount)
    label = "recoverable draw" if rule.recoverable else "guarantee"
    if net < guaranteed:
        top_up = guaranteed - net
        return [
            Line(
                kind=LineKind.GUARANTEE,
                amount=top_up,
                explanation=(
                    f"{rule.name}: your {label} is {money(guaranteed)} this period and you "
                    f"earned {money(net)}, so {money(top_up)} tops you up"
                    + (
                        " (to be won back from later earnings above the draw)."
                        if rule.recoverable
                        else "."
                    )
                ),
                inputs={
                    "guaranteed": str(guaranteed),
                    "earned": str(net),
                    "recoverable": str(rule.recoverable),
                },
                component_id=rule.component_id,
            )
        ]
    if rule.recoverable and outstanding > 0:
        recovered = min(quantize_money(outstanding), net - guaranteed)
        if recovered > 0:
            return [
                Line(
                    kind=LineKind.DRAW_RECOVERY,
                    amount=-recovered,
                    explanation=(
                        f"{rule.name}: you earned {money(net)}, above the {money(guaranteed)} "
                        f"draw, so {money(recovered)} of the {money(outstanding)} draw paid "
                        f"earlier is won back."
                    ),
                    inputs={"outstanding": str(outstanding), "earned": str(net)},
                    component_id=rule.component_id,
                )
            ]
    return []


def allocate_credit(amount: Decimal, percents: Sequence[Decimal]) -> list[Decimal]:
    """Split ``amount`` by ``percents`` (summing to 100) in cents that add up exactly.

    Each share is rounded down to the cent and the cents left over go to the largest
    remainders (ties to the earlier share), so no cent is created or lost.
    """
    if sum(percents, ZERO) != 100:
        raise ValueError("Credit percentages must sum to 100.")
    total_cents = int(quantize_money(amount) * 100)
    exact = [Decimal(total_cents) * p / 100 for p in percents]
    cents = [int(share) for share in exact]
    leftover = total_cents - sum(cents)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - cents[i]), i))
    for i in order[:leftover]:
        cents[i] += 1
    return [Decimal(c).scaleb(-2) for c in cents]
