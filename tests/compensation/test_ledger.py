"""The credit ledger: its pure core (rounding, splits, cancellations, overlays, territories)
and its selector (currency at the close date, rows of a period, a fixed number of queries)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from compensation import ledger
from compensation.ledger import CreditedDeal, Kind, Layer
from compensation.models import CreditSplit, DealCancellation
from salesmgmt.money import RateTable
from territories.models import AccountTerritoryAssignment
from tests.compensation.factories import won_deal
from tests.factories import AccountFactory, ExchangeRateFactory, OpportunityFactory
from tests.territories.factories import TerritoryFactory

D = Decimal
JAN = dt.date(2026, 1, 15)
Q1 = (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
Q2 = (dt.date(2026, 4, 1), dt.date(2026, 6, 30))


def _between(deal: CreditedDeal, quarter) -> list[ledger.Entry]:
    return ledger.entries_between([deal], start_on=quarter[0], end_on=quarter[1])


# --- the core -----------------------------------------------------------------------------------


def test_a_deal_without_splits_credits_its_owner_in_full():
    entries = ledger.deal_entries(CreditedDeal(1, owner_id=7, amount=D("1234.56"), closed_on=JAN))

    assert [(e.person_id, e.amount, e.kind, e.day, e.note) for e in entries] == [
        (7, D("1234.56"), Kind.CREDIT, JAN, "owner, 100%")
    ]


def test_split_shares_add_up_to_the_deal_to_the_cent_leftover_to_the_largest_remainder():
    # 100.01 split 60/40: 60.006 and 40.004, the leftover cent to the 60 % share
    deal = CreditedDeal(1, 7, D("100.01"), JAN, splits=((7, D(60)), (8, D(40))))

    entries = ledger.deal_entries(deal)

    assert {e.person_id: e.amount for e in entries} == {7: D("60.01"), 8: D("40.00")}
    assert [e.note for e in entries] == ["split 60%", "split 40%"]


def test_three_equal_shares_lose_no_cent_and_ties_go_to_the_first_person():
    deal = CreditedDeal(
        1, 7, D("100.00"), JAN, splits=((3, D("33.33")), (5, D("33.33")), (9, D("33.34")))
    )

    amounts = [e.amount for e in ledger.deal_entries(deal)]

    # exact shares: nothing to round
    assert amounts == [D("33.33"), D("33.33"), D("33.34")]
    assert sum(amounts) == D("100.00")
    # 2 cents 50/25/25: 1 cent, then the leftover cent to the tied remainders' first
    odd = CreditedDeal(1, 7, D("0.02"), JAN, splits=((3, D(50)), (5, D(25)), (9, D(25))))
    assert [e.amount for e in ledger.deal_entries(odd)] == [D("0.01"), D("0.01"), D("0.00")]


def test_a_cancellation_in_the_same_period_nets_the_deal_to_zero_there():
    deal = CreditedDeal(
        1, 7, D("500.00"), JAN, splits=((7, D(70)), (8, D(30))), cancelled_on=dt.date(2026, 3, 1)
    )

    entries = _between(deal, Q1)

    assert ledger.totals_by_person(entries) == {7: D(0), 8: D(0)}
    debits = [e for e in entries if e.kind == Kind.CANCELLATION]
    assert {(e.person_id, e.amount, e.day) for e in debits} == {
        (7, D("-350.00"), dt.date(2026, 3, 1)),
        (8, D("-150.00"), dt.date(2026, 3, 1)),
    }


def test_a_later_cancellation_keeps_the_credit_and_debits_the_period_it_is_recorded_in():
    deal = CreditedDeal(1, 7, D("500.00"), JAN, cancelled_on=dt.date(2026, 4, 20))

    assert ledger.totals_by_person(_between(deal, Q1)) == {7: D("500.00")}
    later = _between(deal, Q2)
    assert [(e.kind, e.amount, e.day) for e in later] == [
        (Kind.CANCELLATION, D("-500.00"), dt.date(2026, 4, 20))
    ]
    assert "cancelled 2026-04-20, reverses owner, 100%" in later[0].note


def test_overlay_rows_credit_managers_above_but_never_count_in_bookings():
    entries = ledger.deal_entries(CreditedDeal(1, 7, D("900.00"), JAN))
    paths = {7: "/1/4/", 8: "/1/"}

    overlays = ledger.overlay_entries(
        entries, manager_paths={4: "/1/4/", 8: "/1/8/"}, ancestor_paths=paths, names={7: "Ann"}
    )

    assert [(e.person_id, e.amount, e.layer) for e in overlays] == [(4, D("900.00"), Layer.OVERLAY)]
    assert overlays[0].note == "overlay for Ann: owner, 100%"
    assert ledger.totals_by_person(entries + overlays) == {7: D("900.00")}


def test_the_territory_is_the_one_holding_the_account_on_the_close_day():
    history = [(10, dt.date(2020, 1, 1), JAN), (11, JAN, None)]

    assert ledger.territory_on(JAN - dt.timedelta(days=1), history) == 10
    assert ledger.territory_on(JAN, history) == 11  # half-open: the move day is the new one's
    assert ledger.territory_on(dt.date(2019, 1, 1), history) is None


# --- the selector -------------------------------------------------------------------------------


@pytest.fixture
def eur(db):
    ExchangeRateFactory(
        currency="EUR", rate_to_reporting=D("1.10"), effective_on=dt.date(2025, 1, 1)
    )
    ExchangeRateFactory(
        currency="EUR", rate_to_reporting=D("1.30"), effective_on=dt.date(2026, 2, 1)
    )


def test_amounts_are_converted_at_the_rate_of_the_close_date_even_when_cancelled_later(
    eur, rep_a, rep_b, manager_a
):
    # closed at 1.10, cancelled after the rate moved to 1.30: the debit reverses 1.10's amount
    deal = won_deal(rep_a, "1000.00", JAN, currency="EUR")
    CreditSplit.objects.create(opportunity=deal, user=rep_a, percent=D(60))
    CreditSplit.objects.create(opportunity=deal, user=rep_b, percent=D(40))
    DealCancellation.objects.create(
        opportunity=deal, cancelled_on=dt.date(2026, 4, 2), reason="x", recorded_by=manager_a
    )

    q1 = ledger.ledger_entries(start_on=Q1[0], end_on=Q1[1])
    q2 = ledger.ledger_entries(start_on=Q2[0], end_on=Q2[1], person_ids=[rep_b.pk])

    assert ledger.totals_by_person(q1) == {rep_a.pk: D("660.00"), rep_b.pk: D("440.00")}
    assert [(e.person_id, e.amount, e.kind) for e in q2] == [
        (rep_b.pk, D("-440.00"), Kind.CANCELLATION)
    ]


def test_lost_and_open_deals_credit_nothing(rep_a, q1_period):
    OpportunityFactory(owner=rep_a, amount=D(10), status="lost", lost_reason="x", closed_on=JAN)
    OpportunityFactory(owner=rep_a, amount=D(10), expected_close_on=JAN)

    assert ledger.period_entries(period=q1_period) == []


@pytest.fixture
def q1_period(db):
    from salesmgmt.models import Period
    from salesmgmt.services import periods_ensure

    periods_ensure(year=2026)
    return Period.objects.get(kind=Period.Kind.QUARTER, start_on=Q1[0])


@pytest.mark.parametrize("count", [1, 6])
def test_loading_a_period_takes_a_fixed_number_of_queries(
    count, eur, rep_a, rep_b, manager_a, q1_period, django_assert_num_queries
):
    territory = TerritoryFactory()
    for i in range(count):
        account = AccountFactory(owner=rep_a)
        AccountTerritoryAssignment.objects.create(
            account=account,
            territory=territory,
            effective_from=dt.date(2020, 1, 1),
            source="manual",
        )
        deal = won_deal(rep_a, "100", JAN + dt.timedelta(days=i), currency="EUR", account=account)
        CreditSplit.objects.create(opportunity=deal, user=rep_a, percent=D(50))
        CreditSplit.objects.create(opportunity=deal, user=rep_b, percent=D(50))
        if i % 2:
            DealCancellation.objects.create(
                opportunity=deal, cancelled_on=JAN + dt.timedelta(days=20), reason="x",
                recorded_by=manager_a,
            )  # fmt: skip
    rates = RateTable.load()

    # the deals with their splits and cancellation; the accounts' territory assignments
    with django_assert_num_queries(2):
        entries = ledger.period_entries(period=q1_period, rates=rates, with_territory=True)

    assert {e.period_id for e in entries} == {q1_period.pk}
    assert ledger.totals_by_territory(entries) == {territory.pk: D("110.00") * (count - count // 2)}
