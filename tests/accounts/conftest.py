"""Deals and accounts for the page tests: one per seller, each created through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts import services
from tests.factories import AccountFactory


def open_deal(owner, account, name: str, *, process=None, days: int = 30, amount: str = "50000"):
    """A deal created the way people create them, so it has its opening history rows."""
    return services.opportunity_create(
        actor=owner,
        account=account,
        name=name,
        amount=Decimal(amount),
        expected_close_on=dt.date(2030, 1, 1) + dt.timedelta(days=days),
        process=process,
    )


@pytest.fixture
def account_a(rep_a):
    return AccountFactory(owner=rep_a, name="Alpha Corp")


@pytest.fixture
def account_se(se_a):
    return AccountFactory(owner=se_a, name="Sierra Corp")


@pytest.fixture
def account_b(rep_b):
    return AccountFactory(owner=rep_b, name="Bravo Corp")


@pytest.fixture
def deal_a(process, rep_a, account_a):
    return open_deal(rep_a, account_a, "Alpha rollout")


@pytest.fixture
def deal_se(process, se_a, account_se):
    return open_deal(se_a, account_se, "Sierra pilot")


@pytest.fixture
def deal_b(process, rep_b, account_b):
    return open_deal(rep_b, account_b, "Bravo expansion")


@pytest.fixture
def deals(deal_a, deal_se, deal_b):
    return {"a": deal_a, "se": deal_se, "b": deal_b}
