"""An office node (User.is_org_unit) is a node of the forecast tree like a manager: its subtree
rollups and KPIs sum its managers' teams, and the hierarchy pages show it as an office."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from forecasting.models import ForecastRollup, KpiSnapshot, Scope
from forecasting.services.recompute import forecast_recompute_all
from salesmgmt import services
from tests.forecasting.factories import deal


@pytest.fixture
def central(manager_a, manager_b, rep_a, rep_b):
    """The office Central, where both managers' teams work (reporting to it, not the exec);
    the services move each manager's whole team along."""
    office = services.org_unit_create(name="Central")
    for manager in (manager_a, manager_b):
        services.user_set_manager(user=manager, manager=office)
    return office


@pytest.fixture
def book(central, rep_a, rep_b, stages, close_on):
    deal(rep_a, 400, close_on=close_on, status="won")
    deal(rep_a, 100, close_on=close_on, stage=stages["Negotiate"])
    deal(rep_b, 250, close_on=close_on, status="won")
    deal(rep_b, 5000, close_on=close_on, stage=stages["Negotiate"])


def _subtree(person, period) -> ForecastRollup:
    return ForecastRollup.objects.get(person=person, period=period, scope=Scope.SUBTREE)


def test_an_office_has_subtree_rollups_summing_its_managers(
    book, central, manager_a, manager_b, period
):
    forecast_recompute_all()

    office_row = _subtree(central, period)
    teams = [_subtree(m, period) for m in (manager_a, manager_b)]
    assert office_row.closed_amount == sum((t.closed_amount for t in teams), Decimal(0))
    assert office_row.closed_amount == Decimal("650.00")
    assert office_row.commit_amount == Decimal("5100.00")
    kpi = KpiSnapshot.objects.get(person=central, period=period, scope=Scope.SUBTREE)
    assert kpi.won_count == 2


def test_the_executive_rollup_and_team_dashboard_show_the_office_as_one(
    book, central, manager_a, executive, period, client
):
    forecast_recompute_all(with_kpis=False)
    client.force_login(executive)

    rollup = client.get(reverse("coaching:executive_rollup"), {"period": period.pk})
    team = client.get(
        reverse("coaching:team_dashboard"), {"person": central.pk, "period": period.pk}
    )

    assert rollup.status_code == team.status_code == 200
    assert 'Central</a> <span class="tag">Office</span>' in rollup.content.decode()
    page = team.content.decode()
    assert "Central office" in page
    assert str(manager_a) in page
