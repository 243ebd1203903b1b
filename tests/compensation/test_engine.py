"""The pure payout engine: tiers, accelerators, caps, bonuses, SPIFs, guarantees, compliance.

No database: the engine takes dataclasses and returns explained lines.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compensation import engine
from compensation.engine import (
    Clawback,
    CommissionRule,
    ComplianceRule,
    Deal,
    GuaranteeRule,
    LineKind,
    Method,
    PayoutInput,
    SpifRule,
    ThresholdBonusRule,
    Tier,
    allocate_credit,
    calculate,
)
from salesmgmt.money import quantize_money

D = Decimal
CLOSE = dt.date(2026, 2, 1)
# The example plan: 0-50% at 4%, 50-100% at 8%, above 100% at 12%.
TIERS = (Tier(D(0), D("0.04")), Tier(D("0.5"), D("0.08")), Tier(D(1), D("0.12")))


def commission(method: Method = Method.MARGINAL, **terms) -> CommissionRule:
    return CommissionRule(component_id=1, name="Commission", tiers=TIERS, method=method, **terms)


def deal(amount, *, day: int = 1, pk: int | None = None, **fields) -> Deal:
    return Deal(
        opportunity_id=pk if pk is not None else day,
        name=fields.pop("name", f"Deal {day}"),
        closed_on=CLOSE + dt.timedelta(days=day),
        amount=D(amount),
        deal_amount=D(fields.pop("deal_amount", amount)),
        **fields,
    )


def payout(deals, rules, *, quota="150000", **fields) -> engine.PayoutResult:
    return calculate(
        PayoutInput(
            rep_id=1,
            period_name="FY2026 Q1",
            quota=None if quota is None else D(quota),
            deals=tuple(deals),
            rules=tuple(rules),
            **fields,
        )
    )


# --- tiers ------------------------------------------------------------------------------------


def test_marginal_tier_boundary_pays_each_slice_at_its_rate():
    # Given 145k booked against a 150k quota (the 100% boundary is at 150k),
    # when a 20k deal closes, then 5k is paid at 8% and 15k at 12%.
    result = payout([deal("145000", day=1), deal("20000", day=2)], [commission()])

    last = result.lines[-1]
    assert last.amount == D("5000") * D("0.08") + D("15000") * D("0.12") == D("2200.00")
    assert "5,000.00 at 8%" in last.explanation
    assert "15,000.00 at 12%" in last.explanation
    # first deal: 75k at 4% + 70k at 8%
    assert result.lines[0].amount == D("3000.00") + D("5600.00")


def test_whole_tier_pays_all_bookings_at_the_tier_reached():
    result = payout([deal("145000", day=1), deal("20000", day=2)], [commission(Method.WHOLE_TIER)])

    assert [line.amount for line in result.lines] == [D("17400.00"), D("2400.00")]
    assert result.total == D("165000") * D("0.12")
    assert "Whole-tier" in result.lines[0].explanation


def test_attainment_is_bookings_over_quota():
    result = payout([deal("75000")], [commission()])

    assert result.attainment == D("0.5")
    assert result.bookings == D("75000")


def test_without_a_quota_every_booking_earns_the_base_rate():
    result = payout([deal("500000")], [commission()], quota=None)

    assert result.attainment is None
    assert result.total == D("20000.00")


def test_decelerator_scales_commission_below_the_threshold():
    rule = commission(decelerator_below=D("0.5"), decelerator_factor=D("0.5"))

    below = payout([deal("60000")], [rule])
    above = payout([deal("90000")], [rule])

    assert below.total == D("60000") * D("0.04") * D("0.5")
    assert "decelerator" in below.lines[0].explanation
    assert above.total == D("75000") * D("0.04") + D("15000") * D("0.08")


def test_cap_limits_the_period_commission_line_by_line():
    result = payout(
        [deal("100000", day=1), deal("100000", day=2)], [commission(cap_amount=D(8000))]
    )

    assert [line.amount for line in result.lines] == [D("5000.00"), D("3000.00")]
    assert result.total == D(8000)
    assert "capped at 8,000.00" in result.lines[1].explanation


# --- bonus, SPIF, guarantee, compliance -------------------------------------------------------


def test_threshold_bonus_is_paid_at_the_threshold_not_below():
    bonus = ThresholdBonusRule(component_id=2, name="Quota club", threshold=D(1), amount=D(5000))

    assert payout([deal("149999.99")], [bonus]).total == 0
    reached = payout([deal("150000")], [bonus])
    assert reached.total == D("5000.00")
    assert reached.lines[0].kind == LineKind.BONUS


def test_spif_pays_matching_deals_in_its_date_range():
    spif = SpifRule(
        component_id=3,
        name="New logo SPIF",
        start_on=CLOSE,
        end_on=CLOSE + dt.timedelta(days=10),
        fixed_amount=D(500),
        rate=D("0.01"),
        min_deal_amount=D(20000),
        new_logo_only=True,
        product_keyword="analytics",
    )
    deals = [
        deal("30000", day=1, name="Analytics suite", is_new_logo=True),  # pays 500 + 300
        deal("30000", day=2, name="Analytics suite", is_new_logo=False),  # not a new logo
        deal("10000", day=3, name="Analytics add-on", is_new_logo=True),  # too small
        deal("30000", day=4, name="CRM seats", is_new_logo=True),  # other product
        deal("30000", day=20, name="Analytics", is_new_logo=True),  # after the range
    ]

    result = payout(deals, [spif])

    assert [(line.opportunity_id, line.amount) for line in result.lines] == [(1, D("800.00"))]


def test_guarantee_tops_up_to_the_guaranteed_amount():
    guarantee = GuaranteeRule(component_id=4, name="Ramp guarantee", amount=D(3000))

    low = payout([deal("10000")], [commission(), guarantee])
    high = payout([deal("100000")], [commission(), guarantee])

    assert low.total == D("3000.00")
    assert low.lines[-1].kind == LineKind.GUARANTEE
    assert low.lines[-1].amount == D("2600.00")
    assert high.total == D("5000.00")  # 75k x 4% + 25k x 8%, above the guarantee
    assert all(line.kind != LineKind.GUARANTEE for line in high.lines)


def test_recoverable_draw_is_won_back_from_earnings_above_it():
    draw = GuaranteeRule(component_id=4, name="Draw", amount=D(3000), recoverable=True)

    result = payout([deal("100000")], [commission(), draw], outstanding_draw=D(2500))

    # earned 5000 (75k x 4% + 25k x 8%), 2000 above the draw: 2000 of the 2500 is recovered
    assert result.lines[-1].kind == LineKind.DRAW_RECOVERY
    assert result.lines[-1].amount == D("-2000.00")
    assert result.total == D("3000.00")


COMPLIANCE = ComplianceRule(
    component_id=5,
    name="Documentation compliance",
    bands=((D("0.9"), D(1)), (D("0.75"), D("0.95")), (D(0), D("0.9"))),
)


@pytest.mark.parametrize(
    ("score", "multiplier"),
    [
        ("1", "1"),
        ("0.9", "1"),
        ("0.8999", "0.95"),
        ("0.75", "0.95"),
        ("0.7499", "0.9"),
        ("0", "0.9"),
    ],
)
def test_compliance_multiplier_bands(score, multiplier):
    result = payout([deal("100000")], [commission(), COMPLIANCE], compliance_score=D(score))

    assert result.total == D("5000.00") * D(multiplier)
    line = result.lines[-1]
    assert line.kind == LineKind.COMPLIANCE
    assert line.amount == D("5000.00") * (D(multiplier) - 1)


def test_compliance_multiplier_does_not_scale_clawbacks():
    clawback = Clawback(
        opportunity_id=9,
        name="Cancelled deal",
        original_line_id=77,
        original_amount=D("1234.56"),
        original_period="FY2025 Q4",
        closed_on=dt.date(2025, 12, 1),
        cancelled_on=dt.date(2026, 1, 10),
        window_days=90,
    )

    result = payout(
        [deal("100000")],
        [commission(), COMPLIANCE],
        compliance_score=D("0.5"),
        clawbacks=(clawback,),
    )

    reversal = result.lines[-1]
    assert reversal.kind == LineKind.CLAWBACK
    assert reversal.amount == D("-1234.56")
    assert reversal.linked_line_id == 77
    assert reversal.opportunity_id == 9
    assert result.total == D("4500.00") - D("1234.56")


# --- properties -------------------------------------------------------------------------------

amounts = st.decimals(min_value=D("0.01"), max_value=D("500000"), places=2)
rates = st.decimals(min_value=D(0), max_value=D("0.3"), places=4)


@st.composite
def tier_rules(draw):
    """Tiers with non-decreasing rates (accelerators), marginal or whole-tier."""
    floors = sorted(
        set(draw(st.lists(st.decimals(min_value=D("0.01"), max_value=D(3), places=2), max_size=3)))
    )
    tier_rates = sorted(draw(st.lists(rates, min_size=len(floors) + 1, max_size=len(floors) + 1)))
    tiers = tuple(Tier(f, r) for f, r in zip([D(0), *floors], tier_rates, strict=True))
    return CommissionRule(
        component_id=1, name="C", tiers=tiers, method=draw(st.sampled_from(list(Method)))
    )


quotas = st.one_of(st.none(), st.decimals(min_value=D(1000), max_value=D(1000000), places=2))


@settings(max_examples=150, deadline=None)
@given(
    rule=tier_rules(),
    quota=quotas,
    booked=st.lists(amounts, max_size=6),
    extra=amounts,
    score=st.decimals(min_value=D(0), max_value=D(1), places=4),
)
def test_payout_never_decreases_when_bookings_increase(rule, quota, booked, extra, score):
    bonus = ThresholdBonusRule(component_id=2, name="B", threshold=D(1), amount=D(1000))
    rules = [rule, bonus, COMPLIANCE]
    deals = [deal(amount, day=i) for i, amount in enumerate(booked)]

    before = payout(deals, rules, quota=quota, compliance_score=score)
    after = payout(
        [*deals, deal(extra, day=len(deals))], rules, quota=quota, compliance_score=score
    )

    assert after.total >= before.total


@settings(max_examples=150, deadline=None)
@given(
    rule=tier_rules(),
    quota=quotas,
    booked=st.lists(amounts, max_size=6),
    score=st.decimals(min_value=D(0), max_value=D(1), places=4),
    cap=st.one_of(st.none(), amounts),
)
def test_lines_sum_to_the_total_in_whole_cents(rule, quota, booked, score, cap):
    capped = CommissionRule(
        component_id=1, name="C", tiers=rule.tiers, method=rule.method, cap_amount=cap
    )
    guarantee = GuaranteeRule(component_id=4, name="G", amount=D(2000))
    result = payout(
        [deal(a, day=i) for i, a in enumerate(booked)],
        [capped, COMPLIANCE, guarantee],
        quota=quota,
        compliance_score=score,
    )

    assert sum(line.amount for line in result.lines) == result.total
    assert all(line.amount == line.amount.quantize(D("0.01")) for line in result.lines)
    if cap is not None:
        assert result.total_of(LineKind.COMMISSION) <= cap


@settings(max_examples=200, deadline=None)
@given(
    quota=st.decimals(min_value=D(1000), max_value=D(1000000), places=2),
    before_pct=st.decimals(min_value=D(0), max_value=D("1.5"), places=4),
    amount=amounts,
)
def test_marginal_deal_commission_is_exact_to_the_cent_across_a_boundary(quota, before_pct, amount):
    boundary = quota  # the 100% tier starts at the quota
    booked = (quota * before_pct).quantize(D("0.01"))
    deals = [deal(booked, day=1), deal(amount, day=2)] if booked else [deal(amount, day=2)]

    line = payout(deals, [commission()], quota=quota).lines[-1]

    half = quota * D("0.5")
    start, end = booked, booked + amount
    lower = max(min(end, half) - start, D(0)) * D("0.04")
    middle = max(min(end, boundary) - max(start, half), D(0)) * D("0.08")
    upper = max(end - max(start, boundary), D(0)) * D("0.12")
    # one rounding, half up, of the exact sum (a half cent rounds up, never to even)
    assert line.amount == quantize_money(lower + middle + upper)


@settings(max_examples=200, deadline=None)
@given(
    amount=amounts, shares=st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=5)
)
def test_splits_sum_to_100_percent_and_to_the_deal_amount(amount, shares):
    # scale arbitrary shares to percentages (2 decimals) that sum to exactly 100
    total = sum(shares)
    percents = [(D(100) * s / total).quantize(D("0.01")) for s in shares]
    percents[-1] += D(100) - sum(percents)
    if percents[-1] <= 0:
        return

    credited = allocate_credit(amount, percents)

    assert sum(percents) == 100
    assert sum(credited) == amount
    assert all(c >= 0 and c == c.quantize(D("0.01")) for c in credited)


def test_allocate_credit_refuses_shares_not_summing_to_100():
    with pytest.raises(ValueError, match="100"):
        allocate_credit(D(100), [D(60), D(30)])


def test_debits_lower_the_bookings_and_the_tier_but_earn_nothing():
    # given: 100,000 of new credit and a 40,000 debit for a deal won last quarter, cancelled now
    debit = deal("-40000", day=2, pk=99, name="Cancelled")

    result = payout([deal("100000", pk=1)], [commission(Method.WHOLE_TIER)], debits=(debit,))

    # 60,000 / 150,000 = 40 %: the first tier (4 %), and no line for the debited deal
    assert result.bookings == D(60000)
    assert result.attainment == D("0.4")
    assert [(line.opportunity_id, line.amount) for line in result.lines] == [(1, D("4000.00"))]


def test_bookings_below_zero_pay_at_the_first_tier_instead_of_failing():
    result = payout([], [commission()], debits=(deal("-5000", pk=9),))

    assert result.bookings == D(-5000)
    assert result.lines == ()
