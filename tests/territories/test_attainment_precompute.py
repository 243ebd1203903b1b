"""Precomputed attainment: equal to the live computation, refreshed after changes through the
one refresh path (kind "attainment"), idempotent."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Opportunity
from salesmgmt import refresh
from salesmgmt import services as org_services
from salesmgmt.models import Period, Role, StaleMark
from salesmgmt.tasks import refresh_aggregate
from territories import selectors, services
from territories.models import AttainmentFigure, AttainmentPeriod, Quota
from territories.services.attainment import attainment_refresh_keys
from territories.tasks import mark_attainment_stale
from tests.factories import (
    ActivityFactory,
    ExchangeRateFactory,
    OpportunityFactory,
    complete_closing_milestones,
)
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


def _marked():
    return sorted(StaleMark.objects.filter(kind="attainment").values_list("period_key", flat=True))


def test_a_period_never_refreshed_is_computed_live_by_a_read_that_writes_nothing(
    booked, q1, django_capture_on_commit_callbacks
):
    StaleMark.objects.all().delete()
    with django_capture_on_commit_callbacks() as callbacks:
        first = selectors.attainment_by_user(period=q1, user_ids=_ids(booked))
        company = selectors.attainment_company(period=q1)

    assert first == selectors.attainment_compute_by_user(period=q1, user_ids=_ids(booked))
    assert company == selectors.attainment_compute_company(period=q1)
    # a read: no figures stored, nothing marked, nothing sent
    assert callbacks == []
    assert not AttainmentPeriod.objects.exists()
    assert not AttainmentFigure.objects.exists()
    assert not StaleMark.objects.exists()


def test_a_new_period_gets_its_first_figures_from_its_creation(
    booked, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        org_services.periods_ensure(year=2027)

    fresh = Period.objects.get(name="FY2027 Q1")
    assert AttainmentPeriod.objects.filter(period=fresh).exists()  # the batch ran (eager)
    assert AttainmentFigure.objects.filter(period=fresh, user__isnull=True).exists()
    assert refresh.pending_count(kind="attainment") == 0


def test_a_new_person_marks_the_computed_and_current_periods(booked, q1, manager_a):
    services.attainment_refresh(period=q1)
    current = _current_ids()
    StaleMark.objects.all().delete()

    org_services.user_create(username="newbie", email="n@example.com", manager=manager_a)

    assert current
    assert _marked() == sorted({q1.pk} | current)


def test_winning_a_deal_refreshes_the_figures(
    booked, q1, rep_a, manager_a, process, django_capture_on_commit_callbacks
):
    services.attainment_refresh(period=q1)
    deal = OpportunityFactory(owner=rep_a, amount=Decimal(250))
    before = selectors.attainment_for(user=manager_a, period=q1).bookings

    with django_capture_on_commit_callbacks(execute=True):
        complete_closing_milestones(deal)
        account_services.opportunity_close_won(
            actor=rep_a, opportunity=deal, closed_on=dt.date(2026, 2, 2)
        )

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
        account_services.opportunity_update(actor=rep_a, opportunity=deal, amount=Decimal(900))

    assert selectors.attainment_for(user=rep_a, period=q1).bookings == Decimal("1020.00")


def test_editing_an_open_deal_marks_only_the_periods_of_its_close_date(booked, q1, periods, rep_a):
    """Not every computed period, as a person's change does: the load test's integrators
    edited deals every few seconds, each edit recomputing a hundred periods."""
    q2 = periods["FY2026 Q2"]
    services.attainment_refresh(period=q1)
    services.attainment_refresh(period=q2)
    close_on = dt.date(2026, 2, 15)
    deal = OpportunityFactory(owner=rep_a, amount=Decimal(300), expected_close_on=close_on)
    StaleMark.objects.all().delete()

    account_services.opportunity_update(actor=rep_a, opportunity=deal, amount=Decimal(900))

    assert _marked() == sorted({q1.pk} | _current_holding(close_on))


def test_reassigning_a_deal_marks_every_computed_period(
    booked, q1, periods, rep_a, se_a, manager_a
):
    q2 = periods["FY2026 Q2"]
    services.attainment_refresh(period=q1)
    services.attainment_refresh(period=q2)
    current = _current_ids()
    deal = OpportunityFactory(owner=rep_a, amount=Decimal(300), expected_close_on=q1.start_on)
    StaleMark.objects.all().delete()

    account_services.opportunity_update(actor=manager_a, opportunity=deal, owner=se_a)

    assert _marked() == sorted({q1.pk, q2.pk} | current)


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
        org_services.user_set_manager(user=rep_b, manager=manager_a)

    team = selectors.attainment_for(user=manager_a, period=q1)
    assert (
        team
        == selectors.attainment_compute_by_user(period=q1, user_ids=[manager_a.pk])[manager_a.pk]
    )
    assert team.bookings == Decimal("620.00") + Decimal("75.00") + Decimal("1100.00")


def test_refresh_is_idempotent(booked, q1):
    services.attainment_refresh(period=q1)
    first = _rows(q1)
    StaleMark.objects.all().delete()

    assert refresh.refresh_due(kinds=["attainment"]) == {"attainment": 0}  # nothing marked
    services.attainment_refresh(period=q1)
    refresh.mark_stale(kind="attainment", keys=[(0, q1.pk)])
    assert refresh_aggregate.delay("attainment").get() == 1
    assert refresh_aggregate.delay("attainment").get() == 0  # the batch cleared its marks
    # a batch run twice (its marks given back, say) rewrites the same rows
    assert attainment_refresh_keys([(0, q1.pk)]) == 1

    assert _rows(q1) == first
    assert len(first) == len({row[0] for row in first})  # one row per person (and company)
    assert AttainmentFigure.objects.filter(period=q1, user__isnull=True).count() == 1


def _current_holding(*days: dt.date) -> set[int]:
    """The current periods (holding today: always marked) that also hold one of ``days``;
    the fixtures' FY2026 holds today in 2026, so its year period is one of them then."""
    today = timezone.localdate()
    current = Period.objects.filter(start_on__lte=today, end_on__gte=today)
    return {p.pk for p in current if any(p.start_on <= day <= p.end_on for day in days)}


def test_changes_in_a_burst_coalesce_into_one_mark_per_period(booked, q1, periods):
    StaleMark.objects.all().delete()
    services.attainment_refresh(period=q1)

    for day in (dt.date(2026, 1, 5), dt.date(2026, 2, 1), dt.date(2026, 3, 30)):
        refresh.changed(days=[day], kinds=["attainment"])
    refresh.changed(periods=[q1.pk], kinds=["attainment"])

    days = (dt.date(2026, 1, 5), dt.date(2026, 2, 1), dt.date(2026, 3, 30))
    # the only computed period, and any current one holding those days
    assert _marked() == sorted({q1.pk} | _current_holding(*days))


def test_the_sweep_refreshes_only_stale_periods(booked, q1, periods):
    q2 = periods["FY2026 Q2"]
    services.attainment_refresh(period=q1)
    services.attainment_refresh(period=q2)
    StaleMark.objects.all().delete()
    # a change whose refresh message was lost: marked, never sent (no commit in this test)
    refresh.changed(days=[dt.date(2026, 2, 1)], kinds=["attainment"])
    before = AttainmentPeriod.objects.get(period=q2).computed_at

    stale = {q1.pk} | _current_holding(dt.date(2026, 2, 1))
    assert refresh.refresh_sweep()["attainment"] == len(stale)
    assert refresh.refresh_sweep()["attainment"] == 0
    assert AttainmentPeriod.objects.get(period=q2).computed_at == before


def test_the_nightly_run_marks_every_computed_period_and_the_current_ones(booked, q1):
    services.attainment_refresh(period=q1)
    current = _current_ids()
    StaleMark.objects.all().delete()

    mark_attainment_stale.delay()

    assert current
    assert _marked() == sorted({q1.pk} | current)


def test_an_older_refresh_never_overwrites_a_newer_one(booked, q1):
    services.attainment_refresh(period=q1)
    state = AttainmentPeriod.objects.get(period=q1)
    rows = _rows(q1)

    from territories.services.attainment import _figures_save

    earlier = state.computed_at - dt.timedelta(seconds=1)
    assert _figures_save(period_id=q1.pk, figures=[], read_at=earlier, duration_ms=1) is None
    assert _rows(q1) == rows
    # a refresh that started later than the stored one does store its figures
    later = state.computed_at + dt.timedelta(seconds=1)
    assert _figures_save(period_id=q1.pk, figures=[], read_at=later, duration_ms=1) is not None
    assert _rows(q1) == []


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


def _current_ids():
    """The periods that hold today (created here if the fixtures' years do not reach today)."""
    today = timezone.localdate()
    org_services.periods_ensure(year=today.year)
    current = Period.objects.filter(start_on__lte=today, end_on__gte=today)
    return set(current.values_list("pk", flat=True))


def test_the_kind_keys_each_part_of_a_change(booked, q1, periods, rep_a):
    """What ``refresh.changed`` (the writers' one call) marks for each thing named."""
    from territories.services.attainment import attainment_keys_for

    q2 = periods["FY2026 Q2"]
    services.attainment_refresh(period=q1)  # the only period computed
    current = _current_ids()
    assert current
    won = Opportunity.objects.filter(owner=rep_a, status="won", closed_on__month=1).get()
    later = Opportunity.objects.filter(closed_on=dt.date(2026, 4, 1)).get()  # in Q2
    activity = ActivityFactory(owner=rep_a, account=won.account, opportunity=won)

    def keys(**parts):
        return {period for _, period in attainment_keys_for(refresh.Change(**parts))}

    assert keys(deals=frozenset({won.pk})) == {q1.pk} | _current_holding(won.closed_on)
    # Q2 never computed: read live (only a current period holding the day is marked)
    assert keys(deals=frozenset({later.pk})) == _current_holding(later.closed_on)
    feb = dt.date(2026, 2, 1)
    assert keys(days=frozenset({feb})) == {q1.pk} | _current_holding(feb)
    assert keys(activities=frozenset({activity.pk})) == set()
    assert keys(periods=frozenset({q2.pk})) == {q2.pk}  # named: computed from now on
    assert keys(people=frozenset({rep_a.pk})) == {q1.pk} | current
    assert keys(everything=True) == {q1.pk} | current
    assert all(person == 0 for person, _ in attainment_keys_for(refresh.Change(everything=True)))


def test_one_changed_call_marks_attainment_and_compliance(booked, q1, rep_a):
    services.attainment_refresh(period=q1)
    StaleMark.objects.all().delete()
    won = Opportunity.objects.filter(owner=rep_a, status="won", closed_on__month=1).get()

    refresh.changed(deals=[won.pk])

    marks = set(StaleMark.objects.values_list("kind", "person_key", "period_key"))
    assert {("attainment", 0, q1.pk), ("compliance", rep_a.pk, 0)} <= marks


def test_with_the_broker_down_the_change_commits_and_the_sweep_catches_up(
    booked, q1, rep_a, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    services.attainment_refresh(period=q1)
    StaleMark.objects.all().delete()
    deal = Opportunity.objects.get(owner=rep_a, amount=Decimal(500), status="won")

    def broker_down(*args, **kwargs):
        raise OperationalError("Connection refused")

    monkeypatch.setattr(refresh_aggregate, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        account_services.opportunity_update(actor=rep_a, opportunity=deal, amount=Decimal(900))

    # the edit is stored, its refresh never ran: the figures are behind, the mark waits
    assert Opportunity.objects.get(pk=deal.pk).amount == Decimal(900)
    assert selectors.attainment_for(user=rep_a, period=q1).bookings == Decimal("620.00")
    assert q1.pk in _marked()
    monkeypatch.undo()

    assert refresh.refresh_sweep()["attainment"] >= 1
    assert selectors.attainment_for(user=rep_a, period=q1).bookings == Decimal("1020.00")
    assert _marked() == []


def test_attainment_by_period_reads_every_refreshed_period_in_one_query(
    booked, q1, q2, periods, django_assert_num_queries
):
    q4 = periods["FY2025 Q4"]
    for period in (q1, q2, q4):
        services.attainment_refresh(period=period)
    ids = _ids(booked)

    with django_assert_num_queries(1):
        by_period = selectors.attainment_by_period(periods=[q4, q1, q2], user_ids=ids)

    assert by_period == {
        p.pk: selectors.attainment_by_user(period=p, user_ids=ids) for p in (q4, q1, q2)
    }
    # not trivially empty: rep_a's Q1 bookings, rep_b's won deal of 1 April in Q2
    assert by_period[q1.pk][booked[3].pk].bookings == Decimal("620.00")
    assert by_period[q2.pk][booked[5].pk].bookings == Decimal(999)


def test_attainment_by_period_computes_a_period_never_refreshed(booked, q1, q2):
    services.attainment_refresh(period=q1)
    AttainmentFigure.objects.filter(period=q2).delete()
    ids = _ids(booked)

    by_period = selectors.attainment_by_period(periods=[q1, q2], user_ids=ids)

    assert by_period[q2.pk] == selectors.attainment_compute_by_user(period=q2, user_ids=ids)
    assert by_period[q2.pk][booked[5].pk].bookings == Decimal(999)
    assert not AttainmentFigure.objects.filter(period=q2).exists()
