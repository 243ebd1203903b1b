"""Balance metrics, rebalancing on seeded data, and the weekly balance monitor."""

import datetime as dt
import random
from decimal import Decimal

import pandas as pd
import pytest
from django.utils import timezone

from territories import analytics, selectors, services, tasks
from territories.models import AccountTerritoryAssignment, TerritoryBalanceSnapshot
from tests.factories import AccountFactory, ActivityFactory, ExchangeRateFactory, OpportunityFactory
from tests.territories.factories import AssignmentFactory, AssignmentRuleFactory, TerritoryFactory


def seed_skewed(owners, *, accounts=60, seed=7):
    """Territories with a skewed book: the first holds most accounts and the biggest ones."""
    rng = random.Random(seed)
    territories = [TerritoryFactory(name=f"T{i}", owner=owner) for i, owner in enumerate(owners)]
    for n in range(accounts):
        # 60% of accounts land in the first territory; revenue is long-tailed
        home = territories[0] if rng.random() < 0.6 else rng.choice(territories)
        revenue = Decimal(int(rng.lognormvariate(13, 0.8)))
        account = AccountFactory(name=f"Seed {n}", owner=home.owner, annual_revenue=revenue)
        AssignmentFactory(account=account, territory=home)
    return territories


@pytest.fixture
def sellers(executive):
    from tests.factories import UserFactory

    return [UserFactory(username=f"seller{i}", manager=executive) for i in range(4)]


def test_rebalancing_reduces_imbalance_and_respects_the_band(executive, sellers):
    seed_skewed(sellers)
    before = selectors.territory_balance(viewer=executive)
    assert before.flagged_count > 0

    plan = selectors.rebalance_preview(actor=executive, band=Decimal("0.10"))

    assert plan.is_within_band_after
    assert plan.cv_after < plan.cv_before
    assert 0 < len(plan.moves) < 30
    # applying it gives exactly the predicted balance
    services.rebalance_apply(
        actor=executive, band=Decimal("0.10"), expected_fingerprint=plan.fingerprint
    )
    after = selectors.territory_balance(viewer=executive, band=Decimal("0.10"))
    assert after.flagged_count == 0
    assert after.cv == pytest.approx(plan.cv_after)
    assert all(abs(row["balance_index"] - 1) <= 0.10 + 1e-9 for row in after.rows)
    assert AccountTerritoryAssignment.objects.filter(source="rebalance").count() == len(plan.moves)


def test_rebalancing_leaves_named_and_hand_placed_accounts_alone(executive, sellers):
    big, small = TerritoryFactory(owner=sellers[0]), TerritoryFactory(owner=sellers[1])
    named = AccountFactory(annual_revenue=Decimal(900), owner=sellers[0])
    AssignmentFactory(account=named, territory=big)
    AssignmentRuleFactory(territory=big, named_accounts=[named])
    manual = AccountFactory(annual_revenue=Decimal(500), owner=sellers[0])
    AssignmentFactory(account=manual, territory=big, source="manual")
    movable = AccountFactory(annual_revenue=Decimal(100), owner=sellers[0])
    AssignmentFactory(account=movable, territory=big)

    plan = selectors.rebalance_preview(actor=executive)

    assert [m.account_id for m in plan.moves] == [movable.pk]
    assert plan.moves[0].to_territory_id == small.pk
    assert not plan.is_within_band_after  # no allowed move can fix it; the preview says so


def test_rebalancing_with_open_deals_moves_their_activities_deal_owner(executive, sellers):
    from accounts import services as account_services
    from accounts.models import Activity

    # Given an account the rebalance moves, with an open deal of its owner and a call on it
    big, small = TerritoryFactory(owner=sellers[0]), TerritoryFactory(owner=sellers[1])
    for revenue in (900, 100):
        AssignmentFactory(
            account=AccountFactory(annual_revenue=Decimal(revenue), owner=sellers[0]),
            territory=big,
        )
    plan = selectors.rebalance_preview(actor=executive)
    (move,) = plan.moves
    deal = OpportunityFactory(account_id=move.account_id, owner=sellers[0])
    call = account_services.activity_log(actor=executive, kind="call", opportunity=deal)

    # When it is applied with the open deals
    services.rebalance_apply(actor=executive, move_open_opportunities=True)

    # Then the deal and its call's copy of the deal's owner (Activity.deal_owner) moved
    deal.refresh_from_db()
    assert (move.to_territory_id, deal.owner_id) == (small.pk, sellers[1].pk)
    assert Activity.objects.values_list("deal_owner_id", flat=True).get(pk=call.pk) == (
        sellers[1].pk
    )


def test_propose_rebalance_moves_nothing_when_already_balanced():
    accounts = pd.DataFrame(
        {
            "account_id": [1, 2, 3, 4],
            "territory_id": [10, 10, 20, 20],
            "potential": [Decimal(50), Decimal(50), Decimal(60), Decimal(45)],
        }
    )
    assert analytics.propose_rebalance(accounts, [10, 20], band=0.10).empty


def test_propose_rebalance_picks_the_single_best_move():
    # 10 holds 30 + 50 + 30, 20 holds 10: moving the 50 balances them exactly (60 / 60)
    accounts = pd.DataFrame(
        {
            "account_id": [1, 2, 3, 4],
            "territory_id": [10, 10, 10, 20],
            "potential": [30.0, 50.0, 30.0, 10.0],
        }
    )
    moves = analytics.propose_rebalance(accounts, [10, 20], band=0.1)
    assert moves[["account_id", "to_territory_id"]].values.tolist() == [[2, 20]]


def test_balance_table_counts_workload_pipeline_and_bookings(
    executive, rep_a, territory_map, process
):
    # given NorCal with two accounts, an open EUR deal, a deal won last quarter and activity
    ExchangeRateFactory(currency="EUR", rate_to_reporting=Decimal("1.10"))
    norcal = territory_map["norcal"]
    first = AccountFactory(owner=rep_a, annual_revenue=Decimal(300))
    second = AccountFactory(owner=rep_a, annual_revenue=None)
    for account in (first, second):
        AssignmentFactory(account=account, territory=norcal)
    OpportunityFactory(account=first, owner=rep_a, amount=Decimal(1000), currency="EUR")
    as_of = dt.date(2025, 5, 14)
    OpportunityFactory(
        account=first, owner=rep_a, status="won", closed_on=dt.date(2025, 3, 3), amount=Decimal(700)
    )
    OpportunityFactory(
        account=first, owner=rep_a, status="won", closed_on=dt.date(2025, 4, 3), amount=Decimal(99)
    )  # this quarter: not in the last four complete ones
    ActivityFactory(
        account=second, owner=rep_a, occurred_at=timezone.make_aware(dt.datetime(2025, 5, 1, 9))
    )

    report = selectors.territory_balance(viewer=executive, as_of=as_of)

    row = next(r for r in report.rows if r["territory_id"] == norcal.pk)
    assert (
        row["account_count"],
        row["potential"],
        row["pipeline"],
        row["bookings"],
        row["activity_count"],
    ) == (2, Decimal(300), Decimal("1100.00"), Decimal(700), 1)
    assert (report.bookings_from, report.bookings_to) == (dt.date(2024, 4, 1), dt.date(2025, 3, 31))
    # three leaf territories, NorCal holds all potential: index 3, outside the band
    assert row["balance_index"] == pytest.approx(3.0)
    assert row["is_outside_band"]


def test_weekly_monitor_is_idempotent_and_flags_drift(executive, sellers):
    seed_skewed(sellers, accounts=20)
    monday = dt.date(2025, 5, 12)

    tasks.record_territory_balance.delay("2025-05-14")  # any day: keyed by its week
    first = list(TerritoryBalanceSnapshot.objects.order_by("id").values())
    tasks.record_territory_balance.delay(monday.isoformat())
    second = list(TerritoryBalanceSnapshot.objects.order_by("id").values())

    assert len(first) == 4
    assert {row["week_start"] for row in first} == {monday}
    strip = {"updated_at"}
    assert [{k: v for k, v in r.items() if k not in strip} for r in first] == [
        {k: v for k, v in r.items() if k not in strip} for r in second
    ]
    flagged = [row for row in second if row["is_flagged"]]
    assert flagged
    assert all(abs(row["balance_index"] - 1) > Decimal("0.10") for row in flagged)
    assert sum(row["balance_index"] for row in second) == pytest.approx(
        Decimal(4), abs=Decimal("0.001")
    )
