"""Precomputed attainment: equal to the live computation, refreshed after changes, idempotent."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts import services as account_services
from accounts.models import Opportunity
from salesmgmt import services as org_services
from salesmgmt.models import Role
from territories import selectors, services
from territories.models import AttainmentFigure, AttainmentPeriod, Quota
from territories.tasks import refresh_attainment
from tests.factories import ExchangeRateFactory, OpportunityFactory
from tests.territories.factories import QuotaFactory

WON = {"status": "won"}


@pytest.fixture
def booked(executive, manager_a, manager_b, rep_a, se_a, rep_b, q1, process):
    """Formula quotas for the reps, an explicit one for manager_b, won deals in two currencies
    (one on each side of a rate change), a lost deal and a won one outside the quarter."""
    ExchangeRateFactory(
        currency="EUR", rate_to_reporting=Decimal("1.10"), effective_on=dt.date(2025, 1, 1)
    )
    ExchangeRateFactory(
        currency="EUR", rate_to_reporting=Decimal("1.20"), effective_on=dt.date(2026, 3, 1)
    )
    for user, amount in ((rep_a, 1000), (se_a, 500), (rep_b, 2000)):
        QuotaFactory(user=user, period=q1, territory_quota=Decimal(amount), amount=Decimal(amount))
    QuotaFactory(
        user=manager_b, period=q1, basis=Quota.Basis.EXPLICIT, amount=Decimal(2500)
    )  # explicit over a team of 2000
    OpportunityFactory(owner=rep_a, amount=Decimal(500), closed_on=dt.date(2026, 1, 10), **WON)
    OpportunityFactory(
        owner=rep_a, amount=Decimal(100), currency="EUR", closed_on=dt.date(2026, 3, 10), **WON
    )
    OpportunityFactory(
        owner=rep_b, amount=Decimal(1000), currency="EUR", closed_on=dt.date(2026, 2, 10), **WON
    )
    OpportunityFactory(owner=se_a, amount=Decimal(75), closed_on=dt.date(2026, 3, 31), **WON)
    OpportunityFactory(owner=rep_b, amount=Decimal(999), closed_on=dt.date(2026, 4, 1), **WON)
    OpportunityFactory(
        owner=rep_b, amount=Decimal(999), status="lost", lost_reason="x", closed_on=q1.start_on
    )
    return [executive, manager_a, manager_b, rep_a, se_a, rep_b]


def _ids(people):
    return [person.pk for person in people]


def _rows(period):
    return list(
        AttainmentFigure.objects.filter(period=period)
        .order_by("user_id")
        .values_list("user_id", "bookings", "quota", "ramped_quota", "is_explicit")
    )


def test_refreshed_figures_equal_the_live_computation_for_every_persona(booked, q1):
    services.attainment_refresh(period=q1)

    stored = selectors.attainment_by_user(period=q1, user_ids=_ids(booked))
    live = selectors.attainment_compute_by_user(period=q1, user_ids=_ids(booked))
    assert stored == live
    assert selectors.attainment_company(period=q1) == selectors.attainment_compute_company(
        period=q1
    )
    # and the figures are not trivially zero: rep_a 500 + 100 EUR at 1.20; manager_b explicit
    assert stored[booked[3].pk].bookings == Decimal("620.00")
    assert (stored[booked[2].pk].quota, stored[booked[2].pk].is_explicit) == (Decimal(2500), True)


def test_a_period_never_refreshed_is_computed_live_and_its_first_refresh_queued(
    booked, q1, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = selectors.attainment_by_user(period=q1, user_ids=_ids(booked))

    assert first == selectors.attainment_compute_by_user(period=q1, user_ids=_ids(booked))
    state = AttainmentPeriod.objects.get(period=q1)  # the refresh ran (eager Celery)
    assert not state.is_stale
    assert AttainmentFigure.objects.filter(period=q1, user=booked[3]).exists()


def test_winning_a_deal_refreshes_the_figures(
    booked, q1, rep_a, manager_a, process, django_capture_on_commit_callbacks
):
    services.attainment_refresh(period=q1)
    deal = OpportunityFactory(owner=rep_a, amount=Decimal(250))
    before = selectors.attainment_for(user=manager_a, period=q1).bookings

    with django_capture_on_commit_callbacks(execute=True):
        account_services.close_won(actor=rep_a, opportunity=deal, closed_on=dt.date(2026, 2, 2))

    assert selectors.attainment_for(user=manager_a, period=q1).bookings == before + 250
    assert selectors.attainment_by_user(
        period=q1, user_ids=_ids(booked)
    ) == selectors.attainment_compute_by_user(period=q1, user_ids=_ids(booked))


def test_editing_a_won_deal_refreshes_the_figures(
    booked, q1, rep_a, django_capture_on_commit_callbacks
):
    services.attainment_refresh(period=q1)
    deal = Opportunity.objects.get(owner=rep_a, amount=Decimal(500), status="won")

    with django_capture_on_commit_callbacks(execute=True):
        account_services.update_opportunity(actor=rep_a, opportunity=deal, amount=Decimal(900))

    assert selectors.attainment_for(user=rep_a, period=q1).bookings == Decimal("1020.00")


def test_a_quota_edit_refreshes_the_figures(
    booked, q1, rep_a, manager_a, django_capture_on_commit_callbacks
):
    services.attainment_refresh(period=q1)

    with django_capture_on_commit_callbacks(execute=True):
        services.quota_update(
            actor=manager_a, person=rep_a, period=q1, reason="Bigger patch", amount=Decimal(4000)
        )

    assert selectors.attainment_for(user=rep_a, period=q1).quota == Decimal(4000)
    assert selectors.attainment_for(user=manager_a, period=q1).quota == Decimal(4500)


def test_a_manager_change_refreshes_every_computed_period(
    booked, q1, rep_b, manager_a, django_capture_on_commit_callbacks
):
    services.attainment_refresh(period=q1)

    with django_capture_on_commit_callbacks(execute=True):
        org_services.set_manager(user=rep_b, manager=manager_a)

    team = selectors.attainment_for(user=manager_a, period=q1)
    assert (
        team
        == selectors.attainment_compute_by_user(period=q1, user_ids=[manager_a.pk])[manager_a.pk]
    )
    assert team.bookings == Decimal("620.00") + Decimal("75.00") + Decimal("1100.00")


def test_refresh_is_idempotent(booked, q1):
    services.attainment_refresh(period=q1)
    first = _rows(q1)

    assert services.attainment_refresh(period=q1) is None  # nothing changed: nothing to do
    services.attainment_refresh(period=q1, force=True)
    refresh_attainment.delay(period_id=q1.pk, force=True)

    assert _rows(q1) == first
    assert len(first) == len({row[0] for row in first})  # one row per person (and company)
    assert AttainmentFigure.objects.filter(period=q1, user__isnull=True).count() == 1


def test_the_sweep_refreshes_only_stale_periods(booked, q1, periods):
    q2 = periods["FY2026 Q2"]
    services.attainment_refresh(period=q1)
    services.attainment_refresh(period=q2)
    # a change whose refresh message was lost: marked, never sent (no commit in this test)
    services.attainment_mark_changed(days=[dt.date(2026, 2, 1)])

    assert refresh_attainment.delay().get() == [q1.pk]
    assert refresh_attainment.delay().get() == []


def test_an_older_refresh_never_overwrites_a_newer_one(booked, q1):
    services.attainment_refresh(period=q1)
    state = AttainmentPeriod.objects.get(period=q1)
    AttainmentPeriod.objects.filter(pk=state.pk).update(computed_generation=5, generation=5)
    rows = _rows(q1)

    from territories.services.attainment import _figures_save

    assert _figures_save(state_id=state.pk, figures=[], generation=4, duration_ms=1) is None
    assert _rows(q1) == rows


@pytest.mark.parametrize("size", ["one", "all"])
def test_attainment_by_user_takes_one_query_whatever_the_number_of_people(
    booked, q1, django_assert_num_queries, size
):
    services.attainment_refresh(period=q1)
    ids = _ids(booked)[:1] if size == "one" else _ids(booked)

    # the figures of these people and the company row (which says the period was computed)
    with django_assert_num_queries(1):
        selectors.attainment_by_user(period=q1, user_ids=ids)
    with django_assert_num_queries(1):
        selectors.attainment_company(period=q1)


def test_payouts_use_the_live_figures_not_the_precomputed_ones(booked, q1, rep_a):
    from compensation.inputs import payout_inputs
    from tests.compensation.factories import PlanAssignmentFactory, PlanFactory

    PlanAssignmentFactory(
        plan=PlanFactory(name="AE plan"), role=Role.REP, effective_from=q1.start_on
    )
    services.attainment_refresh(period=q1)
    # a quota written around the services (as an import would): the table is now stale
    Quota.objects.filter(user=rep_a, period=q1).update(amount=Decimal(3000))

    assert selectors.attainment_for(user=rep_a, period=q1).ramped_quota == Decimal(1000)
    inputs = payout_inputs(period=q1, user_ids=[rep_a.pk])
    assert inputs[rep_a.pk].payout.quota == Decimal(3000)
