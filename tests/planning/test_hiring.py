"""A planned hire becomes a person: user, territory, quotas ramped by the ramp schedule the
learned curve feeds; plan vs actual. Hand-computed figures with the schedule of the engine's
default curve (first deal 2, half 4, full 6 months: 0/0/0/25/50/75/100 % from the hire month),
set by the ``slow_ramp`` fixture; there is no history to learn from here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from planning import hiring, services
from planning.engine.ramp import DEFAULT_RAMP, RampCurve, ramped_quota, schedule_percentages
from planning.models import PlannedHire
from salesmgmt.models import Period, User
from salesmgmt.services import periods_ensure
from territories import selectors as territory_selectors
from territories.models import AttainmentFigure, Quota, RampSchedule
from territories.quota_rules import ramp_factor
from tests.factories import OpportunityFactory, UserFactory
from tests.territories.factories import TerritoryFactory

PLANNERS = {"executive", "admin"}
# A year far ahead, so "the current quarter" is the quarter the person starts in.
YEAR = 2030


@pytest.fixture(autouse=True)
def slow_ramp(db) -> RampSchedule:
    """The company's ramp: the engine's default curve, so the figures below are its."""
    percentages = schedule_percentages(RampCurve(*DEFAULT_RAMP, cohorts=pd.DataFrame()))
    return RampSchedule.objects.create(
        name="Slow", monthly_percentages=percentages, is_default=True
    )


@pytest.fixture
def quarters(db) -> dict[str, Period]:
    periods_ensure(year=YEAR)
    return {p.name: p for p in Period.objects.filter(kind=Period.Kind.QUARTER)}


@pytest.fixture
def planned(executive) -> PlannedHire:
    return services.planned_hire_create(
        actor=executive, sales_role="ae", start_month=dt.date(YEAR, 1, 1), region="West",
        headcount=2,
    )  # fmt: skip


def _hire(actor: User, hire: PlannedHire, **extra) -> PlannedHire:
    values = {
        "first_name": "Nia",
        "last_name": "Okafor",
        "email": "nia@example.com",
        "hired_on": dt.date(YEAR, 2, 10),
        "ramped_quota": Decimal(120000),
        **extra,
    }
    return services.planned_hire_mark_hired(actor=actor, hire=hire, **values)


def test_schedule_percentages_of_a_curve_run_to_its_full_month():
    assert schedule_percentages(RampCurve(*DEFAULT_RAMP, cohorts=pd.DataFrame())) == [
        0, 0, 0, 25, 50, 75, 100
    ]  # fmt: skip
    # First deal 1, half 2.5, full 4: month 2 is 2/3 of the way to 50 % → 33.33 %
    # (factor 0.3333 to four decimals); month 3 is 1/3 of the way from 50 % to 100 %.
    assert schedule_percentages(RampCurve(1.0, 2.5, 4.0, cohorts=pd.DataFrame())) == [
        0, 0, 33.33, 66.67, 100
    ]  # fmt: skip


def test_ramped_quota_scales_each_month_by_the_schedule():
    curve = RampCurve(1.0, 2.0, 4.0, cohorts=pd.DataFrame())
    percentages = schedule_percentages(curve)
    assert percentages == [0, 0, 50, 75, 100]
    # Hired 15 Jan, Q1 and Q2 of 2030: tenures 0..5 → 0, 0, 0.5, 0.75, 1, 1
    q1 = ramped_quota(
        percentages, hired_on=dt.date(2030, 1, 15), start_on=dt.date(2030, 1, 1),
        end_on=dt.date(2030, 3, 31), annual=Decimal(120000),
    )  # fmt: skip
    q2 = ramped_quota(
        percentages, hired_on=dt.date(2030, 1, 15), start_on=dt.date(2030, 4, 1),
        end_on=dt.date(2030, 6, 30), annual=Decimal(120000),
    )  # fmt: skip
    assert q1.factors == (Decimal(0), Decimal(0), Decimal("0.5"))
    # 10 000 a month x 0.5 month's worth
    assert (q1.full_amount, q1.amount, q1.ramp_factor) == (
        Decimal("30000.00"), Decimal("5000.00"), Decimal("0.1667")
    )  # fmt: skip
    assert q2.factors == (Decimal("0.75"), Decimal(1), Decimal(1))
    assert q2.amount == Decimal("27500.00")  # 10 000 x 2.75


def test_mark_hired_creates_the_person_territory_and_ramped_quotas(
    executive, manager_a, rep_b, quarters, planned
):
    territory = TerritoryFactory(owner=rep_b)

    hired = _hire(executive, planned, manager=manager_a, territory=territory)

    person = hired.hired_user
    assert (person.get_full_name(), person.email, person.role, person.sales_role) == (
        "Nia Okafor", "nia@example.com", "rep", "ae"
    )  # fmt: skip
    assert (person.manager, person.hire_date, person.region) == (
        manager_a, dt.date(YEAR, 2, 10), "West"
    )  # fmt: skip
    territory.refresh_from_db()
    assert territory.owner == person
    # Default ramp; hired in February. Q1: Jan before the hire 0, Feb (tenure 0) 0,
    # Mar (1) 0 → 0. Q2: Apr (2) 0, May (3) 0.25, Jun (4) 0.5 → 0.75 months x 10 000 = 7 500.
    quotas = {q.period.name: q.amount for q in Quota.objects.filter(user=person)}
    assert quotas == {f"FY{YEAR} Q1": Decimal("0.00"), f"FY{YEAR} Q2": Decimal("7500.00")}
    # The seat of two splits: one row stays planned, the hired one is its own row.
    planned.refresh_from_db()
    assert (planned.headcount, planned.is_hired) == (1, False)
    assert (hired.headcount, hired.hired_on, hired.start_month) == (
        1, dt.date(YEAR, 2, 10), dt.date(YEAR, 1, 1)
    )  # fmt: skip


def test_mark_hired_twice_is_refused_and_creates_nobody(executive, quarters):
    hire = services.planned_hire_create(
        actor=executive, sales_role="ae", start_month=dt.date(YEAR, 1, 1)
    )
    _hire(executive, hire)
    people = User.objects.count()

    with pytest.raises(ValidationError, match="already filled by Nia Okafor"):
        _hire(executive, hire, email="other@example.com")
    assert User.objects.count() == people


def test_mark_hired_without_history_or_a_quota_is_refused_atomically(executive, quarters):
    hire = services.planned_hire_create(
        actor=executive, sales_role="ae", start_month=dt.date(YEAR, 1, 1)
    )
    people = User.objects.count()
    with pytest.raises(ValidationError) as error:
        _hire(executive, hire, ramped_quota=None)
    assert "ramped_quota" in error.value.message_dict
    assert User.objects.count() == people
    hire.refresh_from_db()
    assert not hire.is_hired


def test_mark_hired_is_all_or_nothing(executive, rep_b, quarters):
    # The territory's owner started after the hire date: the hand-over is refused, and the
    # person created before it is rolled back with it.
    territory = TerritoryFactory(owner=rep_b, effective_from=dt.date(YEAR, 6, 1))
    services_hire = services.planned_hire_create(
        actor=executive, sales_role="ae", start_month=dt.date(YEAR, 1, 1)
    )
    people = User.objects.count()
    with pytest.raises(ValidationError):
        _hire(executive, services_hire, territory=territory)
    assert User.objects.count() == people
    assert not Quota.objects.exists()


def test_plan_vs_actual_headcount_months_and_capacity(executive, quarters, planned):
    services.planned_hire_create(
        actor=executive, sales_role="se", start_month=dt.date(YEAR, 2, 1), region="West"
    )
    hired = _hire(executive, planned, hired_on=dt.date(YEAR, 3, 5))
    # Hired in March: Q1 tenure 0 in Mar → 0; Q2 Apr 1, May 2, Jun 3 → 0 + 0 + 0.25 → 2 500.
    AttainmentFigure.objects.create(
        period=quarters[f"FY{YEAR} Q2"], user=hired.hired_user, bookings=Decimal(1000),
        computed_at=timezone.now(),
    )  # fmt: skip

    actual = hiring.plan_vs_actual()

    assert [(c["sales_role"], c["month"], c["planned"], c["hired"], c["open"])
            for c in actual.headcount] == [
        ("ae", dt.date(YEAR, 1, 1), 2, 1, 1),
        ("se", dt.date(YEAR, 2, 1), 1, 0, 1),
    ]  # fmt: skip
    (row,) = actual.hired
    assert (row.delay_months, row.quota, row.bookings, row.attainment) == (
        2, Decimal("2500.00"), Decimal(1000), Decimal("0.4000")
    )  # fmt: skip
    assert (actual.planned_total, actual.hired_total) == (3, 1)


def test_plan_vs_actual_query_budget_does_not_grow_with_hires(executive, quarters):
    for n in range(3):
        hire = services.planned_hire_create(
            actor=executive, sales_role="ae", start_month=dt.date(YEAR, 1, 1)
        )
        _hire(executive, hire, email=f"p{n}@example.com")
    with CaptureQueriesContext(connection) as queries:
        actual = hiring.plan_vs_actual()
        [row.hire.hired_user.get_full_name() for row in actual.hired]
    # planned hires with their people, quotas summed, attainment summed
    assert len(queries) == 3


@pytest.mark.parametrize(
    "persona", ["rep_a", "se_a", "manager_a", "executive", "admin", "integrator"]
)
def test_mark_hired_page_by_role(client, personas, persona, quarters):
    hire = services.planned_hire_create(
        actor=personas["executive"], sales_role="ae", start_month=dt.date(YEAR, 1, 1)
    )
    client.force_login(personas[persona])
    url = reverse("planning:planned_hire_hire", args=[hire.pk])
    assert client.get(url).status_code == (200 if persona in PLANNERS else 403)
    response = client.post(
        url,
        {"first_name": "A", "last_name": "B", "email": "ab@example.com",
         "hired_on": f"{YEAR}-01-05", "ramped_quota": "60000"},
    )  # fmt: skip
    assert response.status_code == (302 if persona in PLANNERS else 403)
    assert User.objects.filter(email="ab@example.com").exists() is (persona in PLANNERS)


def test_mark_hired_page_twice_is_400_with_the_message(client, executive, quarters):
    hire = services.planned_hire_create(
        actor=executive, sales_role="ae", start_month=dt.date(YEAR, 1, 1)
    )
    client.force_login(executive)
    url = reverse("planning:planned_hire_hire", args=[hire.pk])
    data = {"first_name": "A", "last_name": "B", "email": "ab@example.com",
            "hired_on": f"{YEAR}-01-05", "ramped_quota": "60000"}  # fmt: skip
    assert client.post(url, data).status_code == 302
    response = client.post(url, {**data, "email": "cd@example.com"})
    assert response.status_code == 400
    assert "already filled by A B" in response.content.decode()


def test_mark_hired_page_bad_input_is_400_with_field_errors(client, executive, quarters):
    hire = services.planned_hire_create(
        actor=executive, sales_role="ae", start_month=dt.date(YEAR, 1, 1)
    )
    client.force_login(executive)
    response = client.post(
        reverse("planning:planned_hire_hire", args=[hire.pk]),
        {"first_name": "", "email": "nope", "hired_on": "x", "ramped_quota": "-1"},
    )
    assert response.status_code == 400
    assert {"first_name", "email", "hired_on", "ramped_quota"} <= set(
        response.context["form"].errors
    )


@pytest.mark.parametrize(
    "persona", ["rep_a", "se_a", "manager_a", "executive", "admin", "integrator"]
)
def test_mark_hired_api_by_role(api_client_for, personas, persona, quarters):
    hire = services.planned_hire_create(
        actor=personas["executive"], sales_role="ae", start_month=dt.date(YEAR, 1, 1)
    )
    client = api_client_for(personas[persona])
    body = {"first_name": "Nia", "last_name": "Okafor", "email": "nia@example.com",
            "hired_on": f"{YEAR}-02-10", "ramped_quota": "120000.00"}  # fmt: skip
    response = client.post(f"/api/v1/planning/hires/{hire.pk}/hire/", body, format="json")
    if persona not in PLANNERS:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    person = User.objects.get(email="nia@example.com")
    assert (response.json()["hired_user"], response.json()["hired_on"]) == (
        person.pk, f"{YEAR}-02-10"
    )  # fmt: skip
    again = client.post(
        f"/api/v1/planning/hires/{hire.pk}/hire/", {**body, "email": "x@example.com"},
        format="json",
    )  # fmt: skip
    assert again.status_code == 400
    assert "already filled" in str(again.json())
    actual = client.get("/api/v1/planning/plan-vs-actual/").json()
    assert (actual["hired_total"], actual["quota_total"]) == (1, "7500.00")
    assert actual["hired"][0]["name"] == "Nia Okafor"


@pytest.mark.parametrize(
    "persona", ["rep_a", "se_a", "manager_a", "executive", "admin", "integrator"]
)
def test_plan_vs_actual_api_by_role(api_client_for, personas, persona):
    response = api_client_for(personas[persona]).get("/api/v1/planning/plan-vs-actual/")
    assert response.status_code == (200 if persona in PLANNERS else 403)


def test_plan_page_shows_plan_vs_actual(client, executive, quarters, planned):
    _hire(executive, planned)
    client.force_login(executive)
    html = client.get(reverse("planning:plan")).content.decode()
    assert 'id="actual-hires"' in html
    assert "Nia Okafor" in html
    assert "Hired 1 of 2 planned." in html


def test_mark_hired_without_a_ramp_schedule_uses_the_standard_one(executive, quarters, planned):
    RampSchedule.objects.all().delete()
    hired = _hire(executive, planned)
    # No schedule and nothing learned: 25/50/75/100 % from the hire month, as allocation.
    # Hired 10 Feb: Q1 Jan 0 + Feb 0.25 + Mar 0.5 = 0.75 months x 10 000 = 7 500;
    # Q2 Apr 0.75 + May 1 + Jun 1 = 2.75 months → 27 500.
    quotas = {q.period.name: q.amount for q in Quota.objects.filter(user=hired.hired_user)}
    assert quotas == {f"FY{YEAR} Q1": Decimal("7500.00"), f"FY{YEAR} Q2": Decimal("27500.00")}
    assert not RampSchedule.objects.exists()


def test_ramp_schedule_learn_keeps_the_schedule_when_nothing_was_learned(slow_ramp):
    assert services.ramp_schedule_learn() is None
    slow_ramp.refresh_from_db()
    assert slow_ramp.monthly_percentages == [0, 0, 0, 25, 50, 75, 100]


def test_allocation_and_the_hire_flow_give_the_same_ramp_factor_for_a_month(
    executive, rep_b, quarters, planned
):
    # A learned curve (first deal 1, half 2.5, full 4) feeds the one ramp schedule.
    learned = RampCurve(1.0, 2.5, 4.0, cohorts=pd.DataFrame([{"cohort": "2029Q1", "reps": 3}]))
    services.ramp_schedule_learn(curve=learned)
    assert territory_selectors.ramp_percentages() == (0, 0, 33.33, 66.67, 100)
    territory = TerritoryFactory(owner=rep_b)

    hired = _hire(executive, planned, territory=territory)

    person = hired.hired_user
    periods = [quarters[f"FY{YEAR} Q1"], quarters[f"FY{YEAR} Q2"]]
    (line_q1, line_q2) = hiring.new_hire_quotas(
        territory_selectors.ramp_percentages(), hired_on=person.hire_date,
        annual=Decimal(120000), periods=periods,
    )  # fmt: skip
    for period, line in zip(periods, (line_q1, line_q2), strict=True):
        # Month by month, the factor allocation uses for this person is the hire flow's.
        months = Period.objects.filter(
            kind=Period.Kind.MONTH, start_on__gte=period.start_on, end_on__lte=period.end_on
        ).order_by("start_on")
        allocation_months = tuple(
            ramp_factor(
                hire_date=person.hire_date,
                start_on=m.start_on,
                end_on=m.end_on,
                percentages=territory_selectors.ramp_percentages(),
            )
            for m in months
        )
        assert allocation_months == line.quota.factors
        preview = territory_selectors.allocation_preview(
            period=period, amount=Decimal(1000), method="even"
        )
        (mine,) = [p for p in preview.people if p.person == person]
        assert mine.ramp_factor == line.quota.ramp_factor
    # Hired 10 Feb: Q1 Jan 0 + Feb 0 + Mar 0 → 0; Q2 Apr 0.3333 + May 0.6667 + Jun 1 = 2
    # months x 10 000 = 20 000 (factor 0.6667).
    assert (line_q1.quota.factors, line_q2.quota.factors) == (
        (0, 0, 0), (Decimal("0.3333"), Decimal("0.6667"), Decimal(1))
    )  # fmt: skip
    quotas = {q.period.name: q.amount for q in Quota.objects.filter(user=person)}
    assert quotas == {f"FY{YEAR} Q1": Decimal("0.00"), f"FY{YEAR} Q2": Decimal("20000.00")}
    assert line_q2.quota.ramp_factor == Decimal("0.6667")


def test_mark_hired_learns_the_ramp_from_history_into_the_schedule(
    executive, rep_a, rep_b, quarters, planned, process
):
    # History: rep_a and rep_b (no hire date: ramped) are the ramped AEs; rep_a won 24 000 in
    # the trailing year, so a ramped rep books 12 000 a year, 1 000 a month. A new AE hired
    # on the 1st about 8 months ago (too recent to count as ramped) won 600, 1 500, 1 500 in
    # months 1, 2, 3 from the hire: the 3-month means 300, 700, 1 200 reach half in month 2
    # and all in month 3; first deal in month 1.
    today = timezone.localdate()
    rep_a.hire_date = rep_b.hire_date = None
    rep_a.save()
    rep_b.save()
    hired_on = (today - dt.timedelta(days=240)).replace(day=1)
    newcomer = UserFactory(sales_role="ae", hire_date=hired_on)
    long_ago = timezone.make_aware(dt.datetime(today.year - 2, 1, 1))
    won = {"status": "won", "process": process, "created_at": long_ago}
    OpportunityFactory(owner=rep_a, amount=Decimal(24000), closed_on=today, **won)
    for months, amount in ((1, 600), (2, 1500), (3, 1500)):
        month = hired_on.month - 1 + months
        closed_on = dt.date(hired_on.year + month // 12, month % 12 + 1, 15)
        OpportunityFactory(owner=newcomer, amount=Decimal(amount), closed_on=closed_on, **won)

    hired = _hire(executive, planned)

    # Curve (1, 2, 3) → 0, 0, 50, 100 % from the hire month, now the one schedule.
    assert territory_selectors.ramp_percentages() == (0, 0, 50, 100)
    # Hired 10 Feb: Q1 Jan -, Feb 0, Mar 0 → 0; Q2 Apr 0.5 + May 1 + Jun 1 = 2.5 x 10 000.
    quotas = {q.period.name: q.amount for q in Quota.objects.filter(user=hired.hired_user)}
    assert quotas == {f"FY{YEAR} Q1": Decimal("0.00"), f"FY{YEAR} Q2": Decimal("25000.00")}
