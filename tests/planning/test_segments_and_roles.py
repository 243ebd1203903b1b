"""Segments edited and deleted, role capacity listed and edited: pages and API, planners only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from planning import selectors, services
from planning.models import Coverage, RoleCapacity, Scenario, Segment

PLANNERS = {"executive", "admin"}
ROLES = ["rep_a", "se_a", "manager_a", "executive", "admin", "integrator"]


@pytest.mark.parametrize("persona", ROLES)
def test_segment_edit_page_by_role(client, personas, persona, sales_task):
    enterprise, _ = sales_task
    client.force_login(personas[persona])
    url = reverse("planning:segment_edit", args=[enterprise.pk])
    assert client.get(url).status_code == (200 if persona in PLANNERS else 403)
    response = client.post(url, {"name": "Large", "priority": "5", "employee_count_min": "500"})
    assert response.status_code == (302 if persona in PLANNERS else 403)
    enterprise.refresh_from_db()
    assert (enterprise.name == "Large") is (persona in PLANNERS)


def test_segment_edit_changes_the_sizing(client, executive, sales_task):
    enterprise, _ = sales_task
    client.force_login(executive)
    page = client.get(reverse("planning:segment_edit", args=[enterprise.pk])).content.decode()
    assert 'value="Enterprise"' in page  # the form holds the segment's rules
    # Enterprise from 100 employees: all 5 accounts, 5 x 30 x 10 h = 1500 h of AE time, and
    # Mid-market none.
    client.post(
        reverse("planning:segment_edit", args=[enterprise.pk]),
        {"name": "Enterprise", "priority": "10", "employee_count_min": "100"},
    )
    view = selectors.plan_view()
    assert view.account_counts == {enterprise.pk: 5, sales_task[1].pk: 0}


def test_segment_edit_bad_input_is_400_with_field_errors(client, executive, sales_task):
    enterprise, mid = sales_task
    client.force_login(executive)
    response = client.post(
        reverse("planning:segment_edit", args=[enterprise.pk]),
        {"name": mid.name, "priority": "-1"},
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "priority" in errors


def test_segment_edit_duplicate_name_is_400(client, executive, sales_task):
    enterprise, mid = sales_task
    client.force_login(executive)
    response = client.post(
        reverse("planning:segment_edit", args=[enterprise.pk]), {"name": mid.name, "priority": "1"}
    )
    assert response.status_code == 400
    assert "name" in response.context["form"].errors


def test_segment_delete_cascades_its_coverage_and_keeps_scenarios(client, executive, sales_task):
    enterprise, mid = sales_task
    services.scenario_create(actor=executive, name="Lean", target=Decimal(1000))
    client.force_login(executive)

    response = client.post(reverse("planning:segment_delete", args=[enterprise.pk]))

    assert response.status_code == 302
    assert list(Segment.objects.all()) == [mid]
    assert not Coverage.objects.filter(segment_id=enterprise.pk).exists()
    # Scenarios override the whole plan: they stay and size what is left. Mid-market has no
    # rule: all 5 accounts now, 5 x 100 x 4 h = 2000 h / 1000 h = 2 AEs.
    (lean,) = selectors.plan_view().scenarios
    assert Scenario.objects.count() == 1
    ae = lean.sizing.by_role.set_index("sales_role").loc["ae"]
    assert ae["fte"] == pytest.approx(2.0)


@pytest.mark.parametrize("persona", ROLES)
def test_segment_delete_by_role(client, personas, persona, sales_task):
    enterprise, _ = sales_task
    client.force_login(personas[persona])
    response = client.post(reverse("planning:segment_delete", args=[enterprise.pk]))
    assert response.status_code == (302 if persona in PLANNERS else 403)
    assert Segment.objects.filter(pk=enterprise.pk).exists() is (persona not in PLANNERS)


@pytest.mark.parametrize("persona", ROLES)
def test_segment_update_and_delete_api_by_role(api_client_for, personas, persona, sales_task):
    enterprise, _ = sales_task
    client = api_client_for(personas[persona])
    url = f"/api/v1/planning/segments/{enterprise.pk}/"
    patched = client.patch(url, {"priority": 3, "industries": ["Retail"]}, format="json")
    assert patched.status_code == (200 if persona in PLANNERS else 403)
    if persona in PLANNERS:
        assert (patched.json()["priority"], patched.json()["industries"]) == (3, ["Retail"])
    assert client.delete(url).status_code == (204 if persona in PLANNERS else 403)
    assert Segment.objects.filter(pk=enterprise.pk).exists() is (persona not in PLANNERS)


def test_segment_update_api_bad_input_is_400(api_client_for, executive, sales_task):
    enterprise, mid = sales_task
    response = api_client_for(executive).patch(
        f"/api/v1/planning/segments/{enterprise.pk}/",
        {"name": mid.name, "employee_count_min": -3},
        format="json",
    )
    assert response.status_code == 400
    assert {"name", "employee_count_min"} <= set(response.json()["fields"])


@pytest.mark.parametrize("persona", ROLES)
def test_role_capacity_page_by_role(client, personas, persona):
    client.force_login(personas[persona])
    url = reverse("planning:roles")
    assert client.get(url).status_code == (200 if persona in PLANNERS else 403)
    response = client.post(
        url,
        {"sales_role": "ae", "selling_hours": "1100", "hours_per_activity": "2.5",
         "annual_attrition": "0.1"},
    )  # fmt: skip
    assert response.status_code == (302 if persona in PLANNERS else 403)
    assert RoleCapacity.objects.filter(sales_role="ae").exists() is (persona in PLANNERS)


def test_role_capacity_page_lists_every_role_and_edits_one(client, executive, sales_task):
    client.force_login(executive)
    html = client.get(reverse("planning:roles")).content.decode()
    assert 'id="role-ae"' in html
    assert 'id="role-sdr"' in html
    assert "1200 (default)" in html  # a role without a row
    client.post(
        reverse("planning:roles"),
        {"sales_role": "ae", "selling_hours": "900", "hours_per_activity": "3",
         "annual_attrition": "0.2"},
    )  # fmt: skip
    capacity = RoleCapacity.objects.get(sales_role="ae")
    assert (capacity.selling_hours, capacity.hours_per_activity, capacity.annual_attrition) == (
        Decimal(900), Decimal(3), Decimal("0.2")
    )  # fmt: skip
    # 1800 h of AE work / 900 h = 2.00 FTE on the plan
    assert "2.00" in client.get(reverse("planning:plan")).content.decode()


def test_role_capacity_page_bad_input_is_400_with_field_errors(client, executive):
    client.force_login(executive)
    response = client.post(
        reverse("planning:roles"),
        {"sales_role": "ae", "selling_hours": "0", "hours_per_activity": "-1",
         "annual_attrition": "2"},
    )  # fmt: skip
    assert response.status_code == 400
    ae = next(line for line in response.context["lines"] if line["role"] == "ae")
    assert {"selling_hours", "hours_per_activity", "annual_attrition"} <= set(ae["form"].errors)


def test_coverage_without_hours_takes_the_roles(executive, sales_task):
    enterprise, _ = sales_task
    services.role_capacity_set(
        actor=executive, sales_role="se", selling_hours=Decimal(1000),
        hours_per_activity=Decimal("1.5"),
    )  # fmt: skip
    line = services.coverage_set(
        actor=executive, segment=enterprise, sales_role="se", activities_per_account=Decimal(4)
    )
    assert line.hours_per_activity == Decimal("1.5")


@pytest.mark.parametrize("persona", ROLES)
def test_role_capacity_api_by_role(api_client_for, personas, persona):
    client = api_client_for(personas[persona])
    created = client.post(
        "/api/v1/planning/roles/",
        {"sales_role": "am", "selling_hours": "1000.0", "hours_per_activity": "2.00"},
        format="json",
    )
    assert created.status_code == (201 if persona in PLANNERS else 403)
    assert client.get("/api/v1/planning/roles/").status_code == (
        200 if persona in PLANNERS else 403
    )
    if persona in PLANNERS:
        pk = created.json()["id"]
        patched = client.patch(
            f"/api/v1/planning/roles/{pk}/", {"selling_hours": "800.0"}, format="json"
        )
        assert patched.status_code == 200
        assert (patched.json()["selling_hours"], patched.json()["hours_per_activity"]) == (
            "800.0", "2.00"
        )  # fmt: skip
        bad = client.patch(f"/api/v1/planning/roles/{pk}/", {"selling_hours": "0"}, format="json")
        assert bad.status_code == 400
        assert "selling_hours" in bad.json()["fields"]


def test_role_capacity_list_query_budget(api_client_for, client, executive):
    api = api_client_for(executive)
    client.force_login(executive)
    counts = []
    for roles in (("ae",), ("ae", "am", "se", "sdr")):
        for role in roles:
            services.role_capacity_set(
                actor=executive, sales_role=role, selling_hours=Decimal(1000)
            )
        api.get("/api/v1/planning/roles/")  # warm-up: stamps the token's last use
        with CaptureQueriesContext(connection) as api_queries:
            assert api.get("/api/v1/planning/roles/").status_code == 200
        with CaptureQueriesContext(connection) as page_queries:
            assert client.get(reverse("planning:roles")).status_code == 200
        counts.append((len(api_queries), len(page_queries)))
    # API: 1 the token with its user, 2 COUNT(*) for the page, 3 the page of rows.
    # Page: 1 the session, 2 the user, 3 the rows, 4 the layout's unread-notification count;
    # the same for one role as for four.
    assert counts[0] == counts[1]
    assert counts[0][0] == 3
    assert counts[0][1] == 4
