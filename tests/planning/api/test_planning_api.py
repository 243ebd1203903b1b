"""/api/v1/planning/: segments, coverage, scenarios and the plan; planners only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from planning import services
from planning.models import Coverage, PlannedHire, Scenario, Segment

PLANNERS = {"executive", "admin"}
ROLES = ["rep_a", "se_a", "manager_a", "executive", "admin", "integrator"]
URLS = [
    "/api/v1/planning/plan/",
    "/api/v1/planning/segments/",
    "/api/v1/planning/scenarios/",
    "/api/v1/planning/hires/",
    "/api/v1/planning/capacity/",
]


@pytest.mark.parametrize("persona", ROLES)
@pytest.mark.parametrize("url", URLS)
def test_planning_reads_by_role(api_client_for, personas, persona, url):
    response = api_client_for(personas[persona]).get(url)
    assert response.status_code == (200 if persona in PLANNERS else 403)


@pytest.mark.parametrize("persona", ROLES)
def test_scenario_create_by_role(api_client_for, personas, persona):
    response = api_client_for(personas[persona]).post(
        "/api/v1/planning/scenarios/", {"name": "Grow", "target": "2000000.00"}, format="json"
    )
    assert response.status_code == (201 if persona in PLANNERS else 403)
    assert Scenario.objects.filter(name="Grow").exists() is (persona in PLANNERS)


def test_plan_returns_both_sizings_and_each_scenario(api_client_for, executive, sales_task):
    services.scenario_create(
        actor=executive, name="Lean", target=Decimal(1000), selling_hours=Decimal(600)
    )
    body = api_client_for(executive).get("/api/v1/planning/plan/").json()
    plan, lean = body["sizings"]
    assert (plan["name"], lean["name"]) == ("Plan", "Lean")
    ae = next(row for row in plan["workload"] if row["sales_role"] == "ae")
    assert (ae["fte"], ae["people"], ae["today"], ae["gap"]) == (1.8, 2, 1, 1)
    assert next(r for r in lean["workload"] if r["sales_role"] == "ae")["people"] == 3
    assert lean["target"] == 1000.0
    # No closed deals: no productivity, so no revenue sizing.
    assert (plan["revenue_reps"], body["history"]["win_rate"]) == (None, None)


def test_segment_create_and_coverage_set(api_client_for, executive):
    client = api_client_for(executive)
    created = client.post(
        "/api/v1/planning/segments/",
        {"name": "Public sector", "industries": ["Government"], "priority": 5},
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    url = f"/api/v1/planning/segments/{pk}/coverage/"
    for activities in ("6", "8"):  # the second replaces the first
        response = client.post(
            url, {"sales_role": "am", "activities_per_account": activities}, format="json"
        )
        assert response.status_code == 200, response.json()
    (line,) = response.json()["coverages"]
    assert (line["sales_role"], line["activities_per_account"]) == ("am", "8.00")
    assert Coverage.objects.filter(segment_id=pk).count() == 1


def test_bad_input_is_400_with_field_messages(api_client_for, executive, sales_task):
    client = api_client_for(executive)
    response = client.post(
        "/api/v1/planning/scenarios/", {"name": "", "target": "-1", "win_rate": "3"}, format="json"
    )
    assert response.status_code == 400
    assert {"name", "target", "win_rate"} <= set(response.json()["fields"])
    segment = Segment.objects.get(name="Enterprise")
    response = client.post(
        f"/api/v1/planning/segments/{segment.pk}/coverage/",
        {"sales_role": "cfo", "activities_per_account": "-2"},
        format="json",
    )
    assert response.status_code == 400
    assert {"sales_role", "activities_per_account"} <= set(response.json()["fields"])


def test_scenario_delete(api_client_for, executive, manager_a):
    scenario = services.scenario_create(actor=executive, name="A", target=Decimal(1))
    url = f"/api/v1/planning/scenarios/{scenario.pk}/"
    assert api_client_for(manager_a).delete(url).status_code == 403
    assert api_client_for(executive).delete(url).status_code == 204
    assert not Scenario.objects.exists()


def _queries(client, url: str) -> int:
    client.get(url)  # warm-up: stamps the token's last use
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", URLS)
def test_query_count_does_not_grow(api_client_for, executive, sales_task, url):
    services.scenario_create(actor=executive, name="First", target=Decimal(1))
    services.planned_hire_create(actor=executive, sales_role="am", start_month=dt.date(2026, 1, 1))
    client = api_client_for(executive)
    few = _queries(client, url)
    for n in range(5):
        segment = services.segment_create(actor=executive, name=f"S{n}", industries=["Retail"])
        services.coverage_set(
            actor=executive, segment=segment, sales_role="sdr", activities_per_account=Decimal(5)
        )
        services.scenario_create(actor=executive, name=f"W{n}", target=Decimal(n + 1))
        services.planned_hire_create(
            actor=executive, sales_role="ae", start_month=dt.date(2026, n + 1, 1)
        )
    assert _queries(client, url) == few


def test_planned_hires_and_the_capacity_plan(api_client_for, executive, manager_a):
    client = api_client_for(executive)
    created = client.post(
        "/api/v1/planning/hires/",
        {"sales_role": "ae", "start_month": "2026-09-17", "region": "East", "headcount": 3},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["start_month"] == "2026-09-01"
    bad = client.post(
        "/api/v1/planning/hires/", {"sales_role": "ae", "headcount": 0}, format="json"
    )
    assert bad.status_code == 400
    assert {"start_month", "headcount"} <= set(bad.json()["fields"])
    body = client.get("/api/v1/planning/capacity/").json()
    assert len(body["months"]) == 12
    assert body["ramp"]["first_deal"] == 2.0  # no history: the default ramp
    url = f"/api/v1/planning/hires/{created.json()['id']}/"
    assert api_client_for(manager_a).delete(url).status_code == 403
    assert client.delete(url).status_code == 204
    assert not PlannedHire.objects.exists()
