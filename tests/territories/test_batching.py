"""Large applies stay within SQLite's parameter limit: lookups and writes go in batches."""

import re
import sqlite3

import pytest
from django.db import connection

from accounts.models import Account, Opportunity
from territories import batching, selectors, services
from territories.batching import in_batches
from territories.models import AccountTerritoryAssignment
from tests.factories import AccountFactory, OpportunityFactory
from tests.territories.factories import LONG_AGO, AssignmentFactory, AssignmentRuleFactory

# Not below 3: the refresh marks read the periods of three kinds (month, quarter, year) with a
# constant IN list of three, which is not a list of ids.
SMALL_BATCH = 3


def test_in_batches_keeps_order_and_every_item():
    assert list(in_batches(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(in_batches([], 3)) == []


IN_LIST = re.compile(r"IN \(((?:%s, )*%s)\)")


class InListCounter:
    """Records the longest ``IN (...)`` list of bound parameters in each statement."""

    def __init__(self):
        self.counts: list[tuple[int, str]] = [(0, "")]

    def __call__(self, execute, sql, params, many, context):
        for found in IN_LIST.findall(sql):
            self.counts.append((found.count("%s"), sql[:80]))
        return execute(sql, params, many, context)


def test_rules_apply_binds_no_more_ids_than_a_batch(
    monkeypatch, executive, rep_a, rep_b, territory_map, process
):
    # given seven Californian accounts held in New York (by rule) with open deals, and a rule
    # sending California to NorCal
    monkeypatch.setattr(batching, "BATCH_SIZE", SMALL_BATCH)
    AssignmentRuleFactory(territory=territory_map["norcal"], states=["CA"], priority=10)
    accounts = [AccountFactory(state="CA", owner=rep_b) for _ in range(7)]
    for account in accounts:
        AssignmentFactory(account=account, territory=territory_map["newyork"])
        OpportunityFactory(account=account, owner=rep_b)
    plan = selectors.assignment_preview(actor=executive)
    assert len(plan.moves) == len(accounts)

    # when the rules are applied with the deals
    counter = InListCounter()
    with connection.execute_wrapper(counter):
        run = services.assignment_apply(
            actor=executive, expected_fingerprint=plan.fingerprint, move_open_opportunities=True
        )

    # then no statement listed more than a batch of ids
    worst = max(counter.counts)
    assert 0 < worst[0] <= SMALL_BATCH, worst
    # and everything moved: accounts, their open assignment, their deals
    ids = [a.pk for a in accounts]
    assert run.moved_count == 7
    assert set(Account.objects.filter(pk__in=ids).values_list("owner_id", flat=True)) == {rep_a.pk}
    current = AccountTerritoryAssignment.objects.current().filter(account_id__in=ids)
    assert set(current.values_list("territory_id", flat=True)) == {territory_map["norcal"].pk}
    assert AccountTerritoryAssignment.objects.filter(account_id__in=ids).count() == 14
    deals = Opportunity.objects.filter(account_id__in=ids)
    assert set(deals.values_list("owner_id", flat=True)) == {rep_a.pk}
    assert run.opportunities_moved_count == 7


@pytest.mark.parametrize("size", [1, 3, 1000])
def test_locks_return_every_row_in_pk_order_whatever_the_batch(
    monkeypatch, size, territory_map, rep_a
):
    from territories import locks

    monkeypatch.setattr(batching, "BATCH_SIZE", size)
    accounts = [AccountFactory(owner=rep_a) for _ in range(5)]
    for account in accounts:
        AssignmentFactory(account=account, territory=territory_map["norcal"])
    ids = [a.pk for a in reversed(accounts)]

    assert [a.pk for a in locks.lock_accounts(ids)] == sorted(ids)
    assert sorted(r.account_id for r in locks.lock_open_assignments(ids)) == sorted(ids)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's bound-parameter limit")
def test_rules_apply_works_under_a_low_sqlite_parameter_limit(
    monkeypatch, executive, rep_b, territory_map
):
    # given more accounts to move than SQLite lets one statement bind (lowered from its
    # 32,766 or 250,000 to 1,000 here, still enough for Django's own bulk_create batches)
    monkeypatch.setattr(batching, "BATCH_SIZE", 500)
    AssignmentRuleFactory(territory=territory_map["norcal"], states=["CA"], priority=10)
    accounts = Account.objects.bulk_create(
        [Account(name=f"Bulk {n}", owner=rep_b, state="CA") for n in range(1200)]
    )
    AccountTerritoryAssignment.objects.bulk_create(
        [
            AccountTerritoryAssignment(
                account=a,
                territory=territory_map["newyork"],
                effective_from=LONG_AGO,
                source="rule",
            )
            for a in accounts
        ]
    )
    plan = selectors.assignment_preview(actor=executive)
    connection.ensure_connection()
    limit = sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER
    previous = connection.connection.setlimit(limit, 1000)
    try:
        # when the rules are applied, then every account moves in batches
        run = services.assignment_apply(actor=executive, expected_fingerprint=plan.fingerprint)
    finally:
        connection.connection.setlimit(limit, previous)
    assert run.moved_count == 1200
    moved = AccountTerritoryAssignment.objects.current().filter(territory=territory_map["norcal"])
    assert moved.count() == 1200
