"""The ledger's split rule, reimplemented independently, cuts credit as compensation does."""

from __future__ import annotations

import itertools
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from compensation.engine import allocate_credit
from reconciliation.ledger import split_cents

cents = st.integers(min_value=0, max_value=10**9).map(lambda n: Decimal(n) / 100)


@st.composite
def percents(draw) -> list[Decimal]:
    """Two to four shares in hundredths of a percent, adding up to exactly 100."""
    cuts = sorted(draw(st.lists(st.integers(1, 9_999), min_size=1, max_size=3, unique=True)))
    bounds = [0, *cuts, 10_000]
    return [Decimal(b - a) / 100 for a, b in itertools.pairwise(bounds)]


@settings(max_examples=300, derandomize=True, deadline=None)
@given(amount=cents, shares=percents())
def test_split_cents_matches_the_compensation_engine(amount, shares):
    assert split_cents(amount, shares) == allocate_credit(amount, shares)


def test_split_cents_gives_left_over_cents_to_the_largest_remainders_then_the_first():
    # 0.05 by 33.34/33.33/33.33: exact 1.667, 1.6665, 1.6665 cents; 1 each, two left over:
    # the largest remainder first, then the tie goes to the earlier share
    thirds = [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
    assert split_cents(Decimal("0.05"), thirds) == [
        Decimal("0.02"),
        Decimal("0.02"),
        Decimal("0.01"),
    ]
    assert split_cents(Decimal("0.01"), [Decimal(50), Decimal(50)]) == [
        Decimal("0.01"),
        Decimal("0.00"),
    ]
