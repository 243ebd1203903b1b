"""One credit ledger: a split and a cancelled deal show the same credited bookings everywhere.

The team dashboard, the executive rollup, the attainment API, the KPI rows and the
compensation statement are read the way a user reads them (pages and endpoint) and must
agree, person by person, with each other and with the ledger's rules
(compensation.ledger); the split and cancel edits must reach the precomputed figures
through the refresh path alone.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from compensation import ledger, services
from compensation.models import ComponentKind, Statement
from forecasting.aggregate_kinds import KPIS
from forecasting.models import ForecastRollup, KpiSnapshot, Scope
from forecasting.services.recompute import forecast_recompute_all
from salesmgmt import services as org_services
from salesmgmt.models import ApiToken, Role, StaleMark
from territories.selectors import attainment_by_user
from territories.services import attainment_refresh
from tests.compensation.factories import (
    TIERED,
    PlanAssignmentFactory,
    PlanFactory,
    component,
    quota,
    won_deal,
)
from tests.factories import ExchangeRateFactory
from tests.forecasting.factories import quarter

D = Decimal


@pytest.fixture
def book(executive, manager_a, manager_b, rep_a, se_a, rep_b, process, settings):
    """The current quarter (the forecast covers it) and the one before, quotas, a plan, and
    four won deals, everything computed once before any split or cancellation."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.FORECASTING_TRIALS = 200
    period = quarter(timezone.localdate())
    previous = quarter(period.start_on - dt.timedelta(days=1))
    day = period.start_on
    # EUR at 1.10 until the 6th day of the quarter, 1.30 after: credit uses the close date.
    ExchangeRateFactory(
        currency="EUR", rate_to_reporting=D("1.10"), effective_on=dt.date(2020, 1, 1)
    )
    ExchangeRateFactory(
        currency="EUR", rate_to_reporting=D("1.30"), effective_on=day + dt.timedelta(days=5)
    )
    for person in (rep_a, se_a, rep_b):
        quota(person, period, "20000")
        quota(person, previous, "20000")
    plan = PlanFactory(name="AE plan")
    component(plan, ComponentKind.COMMISSION, TIERED, name="Commission", clawback_days=90)
    PlanAssignmentFactory(plan=plan, role=Role.REP)
    deals = {
        # 10,000.01 EUR closed before the rate change: 11,000.01 in the reporting currency
        "split": won_deal(rep_a, "10000.01", day, currency="EUR", name="Split"),
        "plain": won_deal(rep_b, "5000", day + dt.timedelta(days=1), name="Plain"),
        "same": won_deal(se_a, "3000", day + dt.timedelta(days=2), name="Same quarter"),
        "earlier": won_deal(rep_b, "4000", previous.start_on + dt.timedelta(days=9), name="Old"),
    }
    forecast_recompute_all(with_kpis=True)
    for each in (period, previous):
        attainment_refresh(period=each)
    return {"period": period, "previous": previous, "deals": deals, "day": day}


def _split_and_cancel(book, manager_a, manager_b, rep_a, rep_b) -> None:
    deals, day = book["deals"], book["day"]
    services.credit_splits_set(
        actor=manager_a, opportunity=deals["split"], splits=[(rep_a, D(60)), (rep_b, D(40))]
    )
    services.deal_cancellation_record(
        actor=manager_a,
        opportunity=deals["same"],
        cancelled_on=day + dt.timedelta(days=3),
        reason="Cancelled in the quarter it closed",
    )
    services.deal_cancellation_record(
        actor=manager_b,
        opportunity=deals["earlier"],
        cancelled_on=day + dt.timedelta(days=4),
        reason="Cancelled a quarter later",
    )


# The ledger's answer, by hand: 11,000.01 split 60/40 is 6,600.006 / 4,400.004, the leftover
# cent to the larger remainder; se_a's deal nets to zero in its quarter; rep_b's earlier deal
# is debited in this quarter (4,000) and keeps its credit in the previous one.
EXPECTED = {
    "rep_a": D("6600.01"),
    "se_a": D("0.00"),
    "rep_b": D("4400.00") + D(5000) - D(4000),
    "manager_a": D("6600.01"),  # their team: rep_a + se_a
    "manager_b": D("5400.00"),
    "exec": D("12000.01"),
}


def _people(executive, manager_a, manager_b, rep_a, se_a, rep_b):
    return {p.username: p for p in (executive, manager_a, manager_b, rep_a, se_a, rep_b)}


def _api(user) -> APIClient:
    _, key = org_services.api_token_create(user=user, name="test", scope=ApiToken.Scope.READ_WRITE)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _shown(client, people, period) -> dict[str, dict[str, Decimal]]:
    """Every page's and endpoint's credited bookings, per person (subtree for managers)."""
    shown: dict[str, dict[str, Decimal]] = {name: {} for name in people}
    client.force_login(people["exec"])
    for manager in ("manager_a", "manager_b"):
        response = client.get(
            reverse("coaching:team_dashboard"),
            {"person": people[manager].pk, "period": period.pk},
        )
        assert response.status_code == 200
        for row in response.context["dashboard"].rows:
            name = row.person.username
            shown[name]["dashboard bookings"] = row.attainment.bookings
            shown[name]["dashboard closed"] = row.rollup.closed_amount
    response = client.get(reverse("coaching:executive_rollup"), {"period": period.pk})
    (node, children), *_ = response.context["trees"]
    for each in (node, *children):
        shown[each.person.username]["rollup attainment"] = each.attainment.bookings
        shown[each.person.username]["rollup closed"] = each.row.rollup.closed_amount
    api = _api(people["exec"])
    for name, person in people.items():
        data = api.get("/api/v1/attainment/", {"period": period.pk, "user": person.pk}).json()
        shown[name]["attainment API"] = D(data["bookings"])
        scope = Scope.OWN if person.role == Role.REP else Scope.SUBTREE
        kpi = KpiSnapshot.objects.get(person=person, period=period, scope=scope)
        shown[name]["KPI won"] = kpi.won_amount
    for statement in Statement.objects.filter(run__period=period).select_related("rep"):
        response = client.get(reverse("compensation:statement_detail", args=[statement.pk]))
        assert response.status_code == 200
        shown[statement.rep.username]["statement"] = response.context["statement"].bookings_amount
    return shown


def test_split_and_cancellations_show_the_same_credited_bookings_everywhere(
    book, client, executive, manager_a, manager_b, rep_a, se_a, rep_b
):
    # given: the split and both cancellations, then every aggregate rebuilt
    _split_and_cancel(book, manager_a, manager_b, rep_a, rep_b)
    period = book["period"]
    forecast_recompute_all(with_kpis=True)
    attainment_refresh(period=period)
    services.payout_run_compute(period=period, actor=executive)
    people = _people(executive, manager_a, manager_b, rep_a, se_a, rep_b)

    # when: every page and endpoint is read
    shown = _shown(client, people, period)

    # then: each shows the ledger's figure for each person
    for name, figures in shown.items():
        assert figures, name
        assert set(figures.values()) == {EXPECTED[name]}, (name, figures)
    # the reps are on every one of them, the statement included
    for name in ("rep_a", "se_a", "rep_b"):
        assert {"dashboard bookings", "dashboard closed", "statement"} <= set(shown[name])
    # and pay follows the ledger: se_a's deal, cancelled in its quarter, earns nothing
    se_statement = Statement.objects.get(run__period=period, rep=se_a)
    assert not se_statement.lines.filter(opportunity=book["deals"]["same"]).exists()
    # the earlier quarter keeps rep_b's old deal (the debit is in the quarter it was recorded)
    previous = ledger.totals_by_person(ledger.period_entries(period=book["previous"]))
    assert previous == {rep_b.pk: D(4000)}


def test_split_and_cancel_edits_refresh_the_precomputed_figures(
    book,
    manager_a,
    manager_b,
    rep_a,
    se_a,
    rep_b,
    executive,
    settings,
    django_capture_on_commit_callbacks,
):
    period = book["period"]
    # The KPIs wait for their window (the rollups do not): what they were asked for stays.
    settings.FORECASTING_KPI_DEBOUNCE_SECONDS = 60
    people = _people(executive, manager_a, manager_b, rep_a, se_a, rep_b)
    before = {
        row.person.username: row.closed_amount
        for row in ForecastRollup.objects.filter(period=period, scope=Scope.OWN).select_related(
            "person"
        )
    }
    assert before["rep_a"] == D("11000.01")  # the whole deal is the owner's until the split

    # when: the edits are made through the services and their refreshes run (no full recompute)
    with django_capture_on_commit_callbacks(execute=True):
        _split_and_cancel(book, manager_a, manager_b, rep_a, rep_b)

    # then: stored attainment and forecast closed are the ledger's, for owner and partner
    stored = attainment_by_user(period=period, user_ids=[p.pk for p in people.values()])
    closed = {
        (row.person_id, row.scope): row.closed_amount
        for row in ForecastRollup.objects.filter(period=period)
    }
    for name, person in people.items():
        assert stored[person.pk].bookings == EXPECTED[name], name
        scope = Scope.OWN if person.role == Role.REP else Scope.SUBTREE
        assert closed[(person.pk, scope)] == EXPECTED[name], name
    # and the KPI rows of everyone credited are asked for (debounced like any deal edit)
    kpis = StaleMark.objects.filter(kind=KPIS, period_key=period.pk)
    asked = set(kpis.values_list("person_key", flat=True))
    assert {rep_a.pk, rep_b.pk, se_a.pk} <= asked
