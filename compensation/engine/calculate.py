"""The calculation: one rep's period inputs in, explained lines out (order and rounding as
the package docstring says)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from salesmgmt.money import quantize_money

from .rules import (
    EARNED_KINDS,
    ONE,
    ZERO,
    Clawback,
    CommissionRule,
    ComplianceRule,
    Deal,
    GuaranteeRule,
    Line,
    LineKind,
    Method,
    PayoutInput,
    PayoutResult,
    SpifRule,
    ThresholdBonusRule,
    money,
    percent,
)


def attainment_of(bookings: Decimal, quota: Decimal | None) -> Decimal | None:
    if not quota:
        return None
    return bookings / quota


def calculate(payout: PayoutInput) -> PayoutResult:
    """Every line of one rep's payout for one period, in the order of the module docstring."""
    deals = sorted(payout.deals, key=lambda d: (d.closed_on, d.opportunity_id or 0, d.name))
    bookings = sum((deal.amount for deal in (*deals, *payout.debits)), ZERO)
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
    # Below the first floor (negative: cancellations debited more than was won) is tier 0.
    return max((i for i, tier in enumerate(rule.tiers) if attainment >= tier.floor), default=0)


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
