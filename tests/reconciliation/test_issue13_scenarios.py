"""Issue 13's scenarios, reconciled: the rep's category, a 60/40 split, a cancellation.

Each sets the scenario up through the services, runs the product's refresh and requires zero
differences. They fail until the category (Opportunity.forecast_category read by the
forecast) and the credit ledger (splits and cancellations in every figure) are merged.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import services as deal_services
from compensation.services import credit_splits_set, deal_cancellation_record
from reconciliation import verify_figures
from salesmgmt.services import periods_ensure
from tests.factories import complete_closing_milestones
from tests.reconciliation.refresh import refresh_everything


@pytest.fixture
def deal(rep_a, process):
    today = timezone.localdate()
    periods_ensure(year=today.year)
    periods_ensure(year=today.year - 1)
    account = deal_services.account_create(actor=rep_a, name="Acme", owner=rep_a)
    return deal_services.opportunity_create(
        actor=rep_a,
        account=account,
        name="Deal 460",
        amount=Decimal("10000"),
        expected_close_on=today + dt.timedelta(days=1),
    )


def differences() -> list[str]:
    refresh_everything()
    return [str(d) for d in verify_figures()]


def test_the_reps_commit_moves_the_deal_into_commit(deal, rep_a):
    deal_services.opportunity_update(actor=rep_a, opportunity=deal, forecast_category="commit")
    assert differences() == []


def test_a_split_deal_credits_each_person_their_share(deal, rep_a, rep_b, manager_a):
    complete_closing_milestones(deal)
    won = deal_services.opportunity_close_won(
        actor=rep_a, opportunity=deal, closed_on=timezone.localdate()
    )
    credit_splits_set(
        actor=manager_a.manager,
        opportunity=won,
        splits=[(rep_a, Decimal(60)), (rep_b, Decimal(40))],
    )
    assert differences() == []


def test_a_cancellation_debits_the_period_it_is_recorded_in(deal, rep_a, manager_a):
    today = timezone.localdate()
    complete_closing_milestones(deal)
    won = deal_services.opportunity_close_won(
        actor=rep_a, opportunity=deal, closed_on=today - dt.timedelta(days=100)
    )
    deal_cancellation_record(
        actor=manager_a, opportunity=won, cancelled_on=today, reason="Customer walked away"
    )
    assert differences() == []
