"""Quota edits with audit, manager rollups, consistency, allocation, ramp and attainment."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from salesmgmt.errors import ConflictError, PermissionDeniedError
from territories import selectors, services
from territories.models import CompanyTarget, Quota, QuotaChange, RampSchedule
from territories.selectors.allocation import historical_weights
from tests.factories import AccountFactory, ExchangeRateFactory, OpportunityFactory
from tests.territories.factories import AssignmentFactory, QuotaFactory, TerritoryFactory


def test_quota_is_territory_quota_times_share_times_ramp_plus_adjustment(manager_a, rep_a, q1):
    rep_a.hire_date = dt.date(2026, 1, 15)  # months 1-3 of tenure in Q1: ramp 0.5
    rep_a.save()

    quota = services.quota_update(
        actor=manager_a,
        person=rep_a,
        period=q1,
        reason="New hire plan",
        territory_quota=Decimal("200000"),
        assignment_share=Decimal("0.5"),
        manager_adjustment=Decimal("1000"),
    )

    assert (
        quota.territory_quota,
        quota.assignment_share,
        quota.ramp_factor,
        quota.manager_adjustment,
    ) == (Decimal("200000"), Decimal("0.5"), Decimal("0.5"), Decimal("1000"))
    assert quota.amount == Decimal("51000.00")  # 200000 * 0.5 * 0.5 + 1000
    attainment = selectors.attainment_for(user=rep_a, period=q1)
    assert (attainment.quota, attainment.ramped_quota) == (
        Decimal("101000.00"),
        Decimal("51000.00"),
    )


def test_every_quota_change_is_audited_with_who_when_old_new_and_why(manager_a, rep_a, q1):
    QuotaFactory(user=rep_a, period=q1, territory_quota=Decimal(1000), amount=Decimal(1000))

    services.quota_update(
        actor=manager_a,
        person=rep_a,
        period=q1,
        reason="Big renewal moved to Q2",
        manager_adjustment=Decimal("-250"),
    )

    changes = {c.field: c for c in QuotaChange.objects.all()}
    assert set(changes) == {"manager_adjustment", "amount"}
    adjustment = changes["manager_adjustment"]
    assert (
        adjustment.old_value,
        adjustment.new_value,
        adjustment.changed_by,
        adjustment.reason,
        adjustment.source,
    ) == ("0.00", "-250.00", manager_a, "Big renewal moved to Q2", "edit")
    assert (changes["amount"].old_value, changes["amount"].new_value) == ("1000.00", "750.00")
    assert adjustment.changed_at is not None


@pytest.mark.parametrize(
    ("actor", "person"),
    [
        ("rep_a", "rep_a"),
        ("manager_a", "manager_a"),
        ("manager_b", "rep_a"),
        ("integrator", "rep_a"),
    ],
)
def test_only_a_persons_managers_edit_their_quota(personas, q1, actor, person):
    with pytest.raises(PermissionDeniedError):
        services.quota_update(
            actor=personas[actor],
            person=personas[person],
            period=q1,
            reason="x",
            manager_adjustment=Decimal(1),
        )
    assert not Quota.objects.exists()


def test_a_quota_change_needs_a_reason_and_the_current_version(manager_a, rep_a, q1):
    with pytest.raises(ValidationError, match="why"):
        services.quota_update(
            actor=manager_a, person=rep_a, period=q1, reason=" ", manager_adjustment=Decimal(1)
        )
    quota = services.quota_update(
        actor=manager_a, person=rep_a, period=q1, reason="a", manager_adjustment=Decimal(1)
    )
    services.quota_update(
        actor=manager_a,
        person=rep_a,
        period=q1,
        reason="b",
        expected_version=quota.version,
        manager_adjustment=Decimal(2),
    )
    with pytest.raises(ConflictError):
        services.quota_update(
            actor=manager_a,
            person=rep_a,
            period=q1,
            reason="c",
            expected_version=quota.version,
            manager_adjustment=Decimal(3),
        )


def test_manager_quota_is_the_team_sum_unless_explicit_and_the_check_shows_mismatches(
    executive, manager_a, rep_a, se_a, q1
):
    QuotaFactory(user=rep_a, period=q1, territory_quota=Decimal(300), amount=Decimal(300))
    QuotaFactory(user=se_a, period=q1, territory_quota=Decimal(200), amount=Decimal(200))
    assert selectors.attainment_for(user=manager_a, period=q1).quota == Decimal(500)
    assert selectors.quota_consistency(period=q1) == []

    services.quota_update(
        actor=executive, person=manager_a, period=q1, reason="Stretch", amount=Decimal(650)
    )

    assert selectors.attainment_for(user=manager_a, period=q1).quota == Decimal(650)
    assert selectors.attainment_company(period=q1).quota == Decimal(650)
    (problem,) = selectors.quota_consistency(period=q1)
    assert (problem.user_id, problem.quota, problem.children_quota, problem.difference) == (
        manager_a.pk,
        Decimal(650),
        Decimal(500),
        Decimal(150),
    )
    # handing it back to the team sum clears the mismatch
    services.quota_update(
        actor=executive, person=manager_a, period=q1, reason="Back to sum", basis="derived"
    )
    assert selectors.quota_consistency(period=q1) == []
    assert selectors.attainment_for(user=manager_a, period=q1).quota == Decimal(500)


@pytest.fixture
def three_territories(rep_a, se_a, rep_b, process):
    """Potential 1 : 2 : 4; bookings in 2025 of 100, 0 and 300 (EUR 300 ≈ USD 330)."""
    ExchangeRateFactory(currency="EUR", rate_to_reporting=Decimal("1.10"))
    territories = []
    for owner, revenue, booked, currency in (
        (rep_a, 1, 100, "USD"),
        (se_a, 2, 0, "USD"),
        (rep_b, 4, 300, "EUR"),
    ):
        territory = TerritoryFactory(owner=owner)
        account = AccountFactory(owner=owner, annual_revenue=Decimal(revenue * 1000))
        AssignmentFactory(account=account, territory=territory)
        if booked:
            OpportunityFactory(
                account=account,
                owner=owner,
                status="won",
                amount=Decimal(booked),
                currency=currency,
                closed_on=dt.date(2025, 11, 5),
            )
        territories.append(territory)
    return territories


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("even", ["333333.34", "333333.34", "333333.33"]),
        ("potential", ["142857.14", "285714.29", "571428.58"]),
        # 100 and 330 booked on potentials 1000 and 4000: 430 / 5000 = 0.086 of potential;
        # the middle one booked nothing: 2000 x 0.086 = 172. Weights 100 : 172 : 330 of 602.
        ("historical", ["166112.96", "285714.29", "548172.76"]),
    ],
)
def test_allocation_sums_to_the_target_exactly(executive, three_territories, q1, method, expected):
    target = Decimal("1000000.01")

    services.company_target_allocate(actor=executive, period=q1, amount=target, method=method)

    quotas = {q.territory_id: q for q in Quota.objects.filter(period=q1)}
    parts = [quotas[t.pk].territory_quota for t in three_territories]
    assert parts == [Decimal(e) for e in expected]
    assert sum(parts) == target
    assert CompanyTarget.objects.get(period=q1).method == method
    assert QuotaChange.objects.filter(source="allocation", field="territory_quota").count() == 3


def test_allocation_preview_is_what_allocation_writes_and_ramps_new_hires(
    executive, three_territories, q1, rep_b
):
    rep_b.hire_date = dt.date(2026, 2, 1)  # Q1: 0, 25%, 50% → 0.25
    rep_b.save()
    RampSchedule.objects.create(
        name="Default", monthly_percentages=[25, 50, 75, 100], is_default=True
    )

    preview = selectors.allocation_preview(period=q1, amount=Decimal(700), method="potential")
    services.company_target_allocate(
        actor=executive, period=q1, amount=Decimal(700), method="potential"
    )

    written = {
        q.user_id: (q.territory_quota, q.ramp_factor, q.amount)
        for q in Quota.objects.filter(period=q1)
    }
    assert written == {
        p.person.pk: (p.territory_quota, p.ramp_factor, p.amount) for p in preview.people
    }
    assert written[rep_b.pk] == (Decimal(400), Decimal("0.25"), Decimal("100.00"))
    assert preview.total == Decimal(700)


def test_reallocation_keeps_share_and_adjustment(
    executive, manager_a, rep_a, three_territories, q1
):
    services.company_target_allocate(actor=executive, period=q1, amount=Decimal(700), method="even")
    services.quota_update(
        actor=manager_a,
        person=rep_a,
        period=q1,
        reason="Shares territory",
        assignment_share=Decimal("0.5"),
        manager_adjustment=Decimal(10),
    )

    services.company_target_allocate(
        actor=executive, period=q1, amount=Decimal(1400), method="even"
    )

    quota = Quota.objects.get(user=rep_a, period=q1)
    # 1400 / 3 → 466.67 (largest remainder); * 0.5 = 233.335 → 233.34 (half up); + 10
    assert (quota.territory_quota, quota.amount) == (Decimal("466.67"), Decimal("243.34"))


def test_allocation_by_history_without_any_history_goes_by_potential(three_territories, periods):
    # the bookings fall in November 2025: the four quarters before FY2025 Q1 have none
    preview = selectors.allocation_preview(
        period=periods["FY2025 Q1"], amount=Decimal(700), method="historical"
    )
    assert [line.territory_quota for line in preview.lines] == [
        Decimal(100),
        Decimal(200),
        Decimal(400),
    ]


def test_allocation_by_history_refuses_only_when_nothing_weighs(periods, rep_a):
    # no bookings and no potential anywhere: one each, never a zero quota
    territories = [TerritoryFactory(owner=rep_a), TerritoryFactory(owner=rep_a)]
    preview = selectors.allocation_preview(
        period=periods["FY2025 Q1"], amount=Decimal(10), method="historical"
    )
    assert {line.territory.pk: line.territory_quota for line in preview.lines} == {
        territories[0].pk: Decimal(5),
        territories[1].pk: Decimal(5),
    }


@pytest.mark.parametrize(
    ("booked", "potentials", "expected"),
    [
        # 400 booked on 5000 of potential: 0.08; the new territory's 2000 → 160
        ([100, 0, 300], [1000, 2000, 4000], [100, 160, 300]),
        # the new territory has no potential: the average booked territory, (100 + 300) / 2
        ([100, 0, 300], [1000, 0, 4000], [100, 200, 300]),
        # the booked ones have no potential to learn a rate from: the average again
        ([100, 0, 300], [0, 2000, 0], [100, 200, 300]),
        ([0, 0], [1000, 3000], [1000, 3000]),
        ([0, 0], [0, 0], [1, 1]),
    ],
)
def test_historical_weights_give_a_territory_without_history_a_share(booked, potentials, expected):
    weights = historical_weights([Decimal(b) for b in booked], [Decimal(p) for p in potentials])
    assert weights == [Decimal(e) for e in expected]
    assert all(w > 0 for w in weights)


def test_new_hire_territory_by_history_gets_potential_share_times_owner_ramp(
    executive, three_territories, q1, se_a
):
    # se_a owns the territory with no bookings (potential 2000) and started on 1 Feb 2026:
    # Q1 ramp (25/50/75/100): Jan 0, Feb 0.25, Mar 0.50 → 0.25.
    se_a.hire_date = dt.date(2026, 2, 1)
    se_a.save()
    preview = selectors.allocation_preview(period=q1, amount=Decimal(602), method="historical")
    person = next(p for p in preview.people if p.person.pk == se_a.pk)
    # 602 split 100 : 172 : 330 → 172; ramped: 172 x 0.25 = 43
    assert (person.territory_quota, person.ramp_factor, person.amount) == (
        Decimal(172),
        Decimal("0.25"),
        Decimal("43.00"),
    )


def test_attainment_per_rep_team_and_company_converts_currencies(
    executive, manager_a, manager_b, rep_a, se_a, rep_b, q1, process
):
    ExchangeRateFactory(
        currency="EUR", rate_to_reporting=Decimal("1.10"), effective_on=dt.date(2025, 1, 1)
    )
    ExchangeRateFactory(
        currency="EUR", rate_to_reporting=Decimal("1.20"), effective_on=dt.date(2026, 3, 1)
    )
    for user, amount in ((rep_a, 1000), (se_a, 500), (rep_b, 2000)):
        QuotaFactory(user=user, period=q1, territory_quota=Decimal(amount), amount=Decimal(amount))
    won = {"status": "won"}
    OpportunityFactory(owner=rep_a, amount=Decimal(500), closed_on=dt.date(2026, 1, 10), **won)
    OpportunityFactory(
        owner=rep_a, amount=Decimal(100), currency="EUR", closed_on=dt.date(2026, 3, 10), **won
    )  # at 1.20 → 120
    OpportunityFactory(
        owner=rep_b, amount=Decimal(1000), currency="EUR", closed_on=dt.date(2026, 2, 10), **won
    )  # at 1.10 → 1100
    OpportunityFactory(owner=rep_b, amount=Decimal(999), closed_on=dt.date(2026, 4, 1), **won)
    OpportunityFactory(
        owner=rep_b,
        amount=Decimal(999),
        status="lost",
        lost_reason="x",
        closed_on=dt.date(2026, 2, 1),
    )

    by_user = selectors.attainment_by_user(period=q1, user_ids=[rep_a.pk, manager_a.pk, rep_b.pk])
    company = selectors.attainment_company(period=q1)

    assert (by_user[rep_a.pk].bookings, by_user[rep_a.pk].ratio) == (
        Decimal("620.00"),
        Decimal("0.6200"),
    )
    team = selectors.attainment_for_subtree(manager=manager_a, period=q1)
    assert team == by_user[manager_a.pk]
    assert (team.bookings, team.quota, team.ratio) == (
        Decimal("620.00"),
        Decimal(1500),
        Decimal("0.4133"),
    )
    assert by_user[rep_b.pk].ratio == Decimal("0.5500")
    assert (company.bookings, company.quota, company.ratio) == (
        Decimal("1720.00"),
        Decimal(3500),
        Decimal("0.4914"),
    )


def test_attainment_compute_takes_a_constant_number_of_queries(
    django_assert_num_queries, rep_a, rep_b, q1
):
    # users, the period's quotas, won deals in the period, exchange rates, the company
    # settings (the reporting currency) (the pages read the precomputed figures instead:
    # test_attainment_precompute)
    with django_assert_num_queries(5):
        selectors.attainment_compute_by_user(period=q1, user_ids=[rep_a.pk, rep_b.pk])
