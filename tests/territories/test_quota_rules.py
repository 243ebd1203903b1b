"""Exact splits, ramp factors, the rep formula and the quota rollup, without a database."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from territories.quota_rules import (
    ramp_factor,
    ramp_state,
    ramped_amount,
    split_exactly,
    tenure_month,
    unramped_amount,
)
from territories.quota_tree import OwnQuota, rollup_quotas, subtree_totals

money = st.decimals(min_value=0, max_value=10**10, places=2, allow_nan=False, allow_infinity=False)
weight = st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False, allow_infinity=False)


@given(total=money, weights=st.lists(weight, min_size=1, max_size=40))
def test_split_adds_up_to_the_total_to_the_cent(total, weights):
    if sum(weights) == 0:
        weights = [*weights[:-1], Decimal(1)]

    parts = split_exactly(total, weights)

    assert sum(parts) == total
    assert all(part == part.quantize(Decimal("0.01")) and part >= 0 for part in parts)
    # no part is more than a cent away from its exact share
    weight_sum = sum(weights)
    for part, w in zip(parts, weights, strict=True):
        assert abs(part - total * w / weight_sum) < Decimal("0.01")


def test_split_gives_left_over_cents_to_the_largest_remainders():
    assert split_exactly(Decimal("100.00"), [1, 1, 1]) == [
        Decimal("33.34"),
        Decimal("33.33"),
        Decimal("33.33"),
    ]
    assert split_exactly(Decimal("0.05"), [1, 2, 2]) == [
        Decimal("0.01"),
        Decimal("0.02"),
        Decimal("0.02"),
    ]


def test_split_refuses_all_zero_or_negative_weights():
    with pytest.raises(ValueError, match="zero"):
        split_exactly(Decimal(10), [0, 0])
    with pytest.raises(ValueError, match="negative"):
        split_exactly(Decimal(10), [1, -1])


@pytest.mark.parametrize(
    ("hire_date", "expected"),
    [
        (None, Decimal("1")),  # no hire date: fully ramped
        (dt.date(2024, 6, 3), Decimal("1")),  # long tenure
        (dt.date(2025, 1, 20), Decimal("0.5")),  # months 1, 2, 3 → (25 + 50 + 75) / 3
        (dt.date(2025, 2, 10), Decimal("0.25")),  # not hired in Jan → (0 + 25 + 50) / 3
        (dt.date(2024, 12, 1), Decimal("0.75")),  # months 2, 3, 4 → (50 + 75 + 100) / 3
        (dt.date(2025, 4, 1), Decimal("0")),  # hired after the quarter
    ],
)
def test_ramp_factor_for_a_quarter_averages_the_monthly_steps(hire_date, expected):
    factor = ramp_factor(
        hire_date=hire_date, start_on=dt.date(2025, 1, 1), end_on=dt.date(2025, 3, 31)
    )
    assert factor == expected


def test_ramp_factor_follows_a_configured_schedule_and_rounds_to_four_places():
    factor = ramp_factor(
        hire_date=dt.date(2025, 1, 5),
        start_on=dt.date(2025, 1, 1),
        end_on=dt.date(2025, 3, 31),
        percentages=[10, 20],
    )
    assert factor == Decimal("0.1667")  # (10 + 20 + 20) / 3 = 16.666…%


def test_ramp_state_names_the_month_of_tenure():
    assert tenure_month(dt.date(2025, 1, 31), dt.date(2025, 3, 1)) == 3
    state = ramp_state(hire_date=dt.date(2025, 1, 31), on=dt.date(2025, 2, 15))
    assert (state.tenure_month, state.percent, state.is_ramping) == (2, Decimal(50), True)
    assert str(state) == "Ramping: month 2 (50%)"
    assert str(ramp_state(hire_date=dt.date(2020, 1, 1), on=dt.date(2025, 2, 15))) == (
        "Fully ramped"
    )


def test_rep_quota_is_territory_quota_times_share_times_ramp_plus_adjustment():
    amount = ramped_amount(Decimal("100000"), Decimal("0.5"), Decimal("0.75"), Decimal("-2500"))
    assert amount == Decimal("35000.00")  # 100000 * 0.5 * 0.75 - 2500
    assert unramped_amount(Decimal("100000"), Decimal("0.5"), Decimal("-2500")) == Decimal(
        "47500.00"
    )


def test_manager_quota_is_the_sum_of_the_subtree_unless_explicit():
    # exec(1) ── mgr(2) ── rep(3), rep(4); exec ── mgr(5) ── rep(6)
    parent_of = {1: None, 2: 1, 3: 2, 4: 2, 5: 1, 6: 5}
    own = {
        3: OwnQuota("components", Decimal(100), Decimal(50)),
        4: OwnQuota("components", Decimal(200), Decimal(200)),
        5: OwnQuota("explicit", Decimal(500), Decimal(500)),
        6: OwnQuota("components", Decimal(300), Decimal(300)),
    }

    rolled = rollup_quotas(parent_of, own)

    assert (rolled[2].quota, rolled[2].ramped_quota) == (Decimal(300), Decimal(250))
    assert not rolled[2].is_explicit
    assert rolled[2].is_consistent
    assert rolled[5].quota == Decimal(500)
    assert rolled[5].is_explicit
    assert not rolled[5].is_consistent  # 500 set, but the team adds up to 300
    assert rolled[1].quota == Decimal(800)
    assert subtree_totals(parent_of, {3: Decimal(1), 6: Decimal(2)})[1] == Decimal(3)
