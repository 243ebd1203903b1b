"""The Plan page: who may open it, what it shows, saving a scenario, its query budget."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from planning import services
from planning.models import PlannedHire, Scenario, Segment
from salesmgmt.navigation import sections_for
from tests.factories import AccountFactory

PLANNERS = {"executive", "admin"}


@pytest.mark.parametrize(
    "persona", ["rep_a", "rep_b", "se_a", "manager_a", "executive", "admin", "integrator"]
)
def test_plan_page_access_by_role(client, personas, persona):
    user = personas[persona]
    client.force_login(user)
    response = client.get(reverse("planning:plan"))
    assert response.status_code == (200 if persona in PLANNERS else 403)
    shown = {link.label for link in sections_for(user)}
    assert ("Plan" in shown) is (persona in PLANNERS)


def test_plan_page_shows_segments_sizing_and_chart(client, executive, sales_task):
    client.force_login(executive)
    html = client.get(reverse("planning:plan")).content.decode()
    assert "Enterprise" in html
    assert "Mid-market" in html
    assert "1.80" in html  # AE FTE by workload: 1800 h / 1000 h
    assert "plotly" in html
    assert "vendor/plotly.min.js" in html  # the layout loads the library the chart calls
    assert "<title>Plan · salesmgmt</title>" in html
    assert html.count('id="hiring-title"') == 1


def test_scenario_create_from_the_page(client, executive, sales_task):
    client.force_login(executive)
    response = client.post(
        reverse("planning:scenario_create"),
        {"name": "Stretch", "target": "5000000", "coverage_factor": "1.5", "win_rate": "0.3"},
    )
    assert response.status_code == 302
    scenario = Scenario.objects.get(name="Stretch")
    assert (scenario.coverage_factor, scenario.win_rate) == (Decimal("1.5"), Decimal("0.3"))
    assert "Stretch: people" in client.get(reverse("planning:plan")).content.decode()


def test_scenario_create_bad_input_is_400_with_field_messages(client, executive):
    client.force_login(executive)
    response = client.post(
        reverse("planning:scenario_create"), {"name": "", "target": "-5", "win_rate": "2"}
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"name", "target", "win_rate"} <= set(errors)
    assert not Scenario.objects.exists()


def test_scenario_create_and_delete_refused_to_a_manager(client, manager_a, executive):
    scenario = services.scenario_create(actor=executive, name="A", target=Decimal(1))
    client.force_login(manager_a)
    assert client.post(reverse("planning:scenario_create"), {"name": "B"}).status_code == 403
    url = reverse("planning:scenario_delete", args=[scenario.pk])
    assert client.post(url).status_code == 403
    assert Scenario.objects.count() == 1


def test_scenario_delete(client, executive):
    scenario = services.scenario_create(actor=executive, name="A", target=Decimal(1))
    client.force_login(executive)
    assert client.post(reverse("planning:scenario_delete", args=[scenario.pk])).status_code == 302
    assert not Scenario.objects.exists()


def _page_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("planning:plan")).status_code == 200
    return len(queries)


def test_plan_page_query_count_does_not_grow(client, executive, sales_task, rep_a):
    client.force_login(executive)
    few = _page_queries(client)
    # More accounts, segments and scenarios: the same queries (session, user, segments with
    # coverage and products, accounts, rates, closed deals, reps, capacities, target,
    # headcount, scenarios; the layout's own).
    AccountFactory.create_batch(10, owner=rep_a)
    for n in range(4):
        segment = services.segment_create(actor=executive, name=f"S{n}", industries=["Retail"])
        services.coverage_set(
            actor=executive, segment=segment, sales_role="sdr", activities_per_account=Decimal(5)
        )
        services.scenario_create(actor=executive, name=f"W{n}", target=Decimal(n + 1))
        services.planned_hire_create(
            actor=executive, sales_role="ae", start_month=dt.date(2026, n + 1, 1)
        )
    assert _page_queries(client) == few


def test_planned_hire_from_the_page_shows_in_the_capacity_plan(client, executive):
    client.force_login(executive)
    response = client.post(
        reverse("planning:planned_hire_create"),
        {"sales_role": "ae", "start_month": "2026-07-14", "region": "West", "headcount": "2"},
    )
    assert response.status_code == 302
    hire = PlannedHire.objects.get()
    assert (hire.start_month, hire.headcount) == (dt.date(2026, 7, 1), 2)
    html = client.get(reverse("planning:plan")).content.decode()
    assert "Jul 2026" in html
    assert 'id="capacity"' in html
    bad = client.post(reverse("planning:planned_hire_create"), {"sales_role": "cfo"})
    assert bad.status_code == 400
    assert {"sales_role", "start_month"} <= set(bad.context["hire_form"].errors)


def test_planned_hire_refused_to_a_rep_and_deleted_by_a_planner(client, rep_a, executive):
    hire = services.planned_hire_create(
        actor=executive, sales_role="am", start_month=dt.date(2026, 1, 1)
    )
    client.force_login(rep_a)
    url = reverse("planning:planned_hire_delete", args=[hire.pk])
    assert client.post(url).status_code == 403
    client.force_login(executive)
    assert client.post(url).status_code == 302
    assert not PlannedHire.objects.exists()


def test_planner_defines_a_segment_and_its_coverage_on_the_page(client, executive, rep_a):
    AccountFactory.create_batch(2, owner=rep_a, industry="Retail")
    AccountFactory(owner=rep_a, industry="Software")
    client.force_login(executive)
    response = client.post(
        reverse("planning:segment_create"),
        {"name": "Retail", "priority": "5", "industries": "Retail, Grocery"},
    )
    assert response.status_code == 302
    segment = Segment.objects.get(name="Retail")
    assert segment.industries == ["Retail", "Grocery"]
    data = {"segment": segment.pk, "sales_role": "am", "activities_per_account": "12"}
    for hours in ("2", "3"):  # the second replaces the first
        data["hours_per_activity"] = hours
        assert client.post(reverse("planning:coverage_set"), data).status_code == 302
    (coverage,) = segment.coverages.all()
    assert coverage.hours_per_activity == Decimal(3)
    html = client.get(reverse("planning:plan")).content.decode()
    assert "72" in html  # AM workload: 2 retail accounts x 12 x 3 h


def test_segment_and_coverage_bad_input_is_400(client, executive, sales_task):
    client.force_login(executive)
    # A name taken (the service's check) and a missing priority (the form's).
    response = client.post(
        reverse("planning:segment_create"), {"name": "Enterprise", "priority": "1"}
    )
    assert response.status_code == 400
    assert "name" in response.context["segment_form"].errors
    assert client.post(reverse("planning:segment_create"), {"name": "X"}).status_code == 400
    enterprise, _ = sales_task
    for data, field in (
        ({"segment": "999999", "sales_role": "ae", "activities_per_account": "1"}, "segment"),
        ({"segment": enterprise.pk, "sales_role": "ae", "activities_per_account": "-1",
          "hours_per_activity": "1"},
         "activities_per_account"),
        ({"segment": enterprise.pk, "sales_role": "ae", "activities_per_account": "1",
          "hours_per_activity": "1",
          "win_rate": "1.5"}, "win_rate"),
    ):  # fmt: skip
        response = client.post(reverse("planning:coverage_set"), data)
        assert response.status_code == 400
        assert field in response.context["coverage_form"].errors


def test_segment_and_coverage_refused_to_a_manager(client, manager_a, sales_task):
    enterprise, _ = sales_task
    client.force_login(manager_a)
    assert client.post(reverse("planning:segment_create"), {"name": "M"}).status_code == 403
    data = {"segment": enterprise.pk, "sales_role": "ae", "activities_per_account": "1"}
    assert client.post(reverse("planning:coverage_set"), data).status_code == 403
