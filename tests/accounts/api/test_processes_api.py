"""/api/v1/processes/, /stages/, /milestones/: everyone reads; admins and integrations write."""

from __future__ import annotations

import pytest

from accounts.models import SalesProcess, Stage
from tests.factories import OpportunityFactory, build_process


def test_admin_builds_a_process_through_the_api(admin_user, api_client_for):
    client = api_client_for(admin_user)
    created = client.post("/api/v1/processes/", {"name": "Enterprise"}, format="json")
    assert created.status_code == 201, created.content
    process_id = created.json()["id"]
    stage = client.post(
        "/api/v1/stages/",
        {"process": process_id, "name": "Qualify", "default_forecast_category": "best_case"},
        format="json",
    )
    assert stage.status_code == 201, stage.content
    assert stage.json()["order"] == 1
    second = client.post(
        "/api/v1/stages/", {"process": process_id, "name": "Close"}, format="json"
    ).json()
    milestone = client.post(
        "/api/v1/milestones/",
        {"stage": stage.json()["id"], "name": "Pain confirmed", "evidence_required": True},
        format="json",
    )
    assert milestone.status_code == 201, milestone.content
    reordered = client.post(
        f"/api/v1/processes/{process_id}/reorder-stages/",
        {"ids": [second["id"], stage.json()["id"]]},
        format="json",
    )
    assert reordered.status_code == 200, reordered.content
    body = reordered.json()
    assert [s["name"] for s in body["stages"]] == ["Close", "Qualify"]
    assert body["stages"][1]["milestones"][0]["evidence_required"] is True
    patched = client.patch(
        f"/api/v1/stages/{second['id']}/", {"default_forecast_category": "commit"}, format="json"
    )
    assert patched.status_code == 200, patched.content
    assert Stage.objects.get(pk=second["id"]).default_forecast_category == "commit"
    renamed = client.patch(
        f"/api/v1/processes/{process_id}/", {"requires_verification": True}, format="json"
    )
    assert renamed.json()["requires_verification"] is True


def test_bad_input_is_400_with_field_messages(admin_user, api_client_for):
    build_process(name="Standard")
    client = api_client_for(admin_user)
    duplicate = client.post("/api/v1/processes/", {"name": "Standard"}, format="json")
    assert duplicate.status_code == 400
    assert "name" in str(duplicate.json())
    stage = Stage.objects.first()
    category = client.patch(
        f"/api/v1/stages/{stage.pk}/", {"default_forecast_category": "maybe"}, format="json"
    )
    assert category.status_code == 400
    assert "default_forecast_category" in str(category.json())
    reorder = client.post(
        f"/api/v1/processes/{stage.process_id}/reorder-stages/", {"ids": [stage.pk]}, format="json"
    )
    assert reorder.status_code == 400


def test_deleting_a_used_stage_is_refused_with_a_message(admin_user, api_client_for):
    process = build_process()
    stage = process.stages.order_by("order").first()
    OpportunityFactory(process=process, stage=stage)
    response = api_client_for(admin_user).delete(f"/api/v1/stages/{stage.pk}/")
    assert response.status_code == 400
    assert "stand in the stage" in str(response.json())
    unused = process.stages.order_by("order").last()
    unused.milestones.all().delete()
    assert api_client_for(admin_user).delete(f"/api/v1/stages/{unused.pk}/").status_code == 204


def test_integrator_may_write(integrator, api_client_for):
    response = api_client_for(integrator).post(
        "/api/v1/processes/", {"name": "From HR"}, format="json"
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("persona", ["rep_a", "manager_a", "executive"])
def test_others_read_but_may_not_write(request, persona, api_client_for):
    process = build_process()
    stage = process.stages.first()
    client = api_client_for(request.getfixturevalue(persona))
    assert client.get("/api/v1/processes/").status_code == 200
    assert client.post("/api/v1/processes/", {"name": "X"}, format="json").status_code == 403
    assert (
        client.patch(f"/api/v1/processes/{process.pk}/", {"name": "Y"}, format="json").status_code
        == 403
    )
    assert client.delete(f"/api/v1/stages/{stage.pk}/").status_code == 403
    assert client.post("/api/v1/milestones/", {}, format="json").status_code == 403
    assert SalesProcess.objects.get().name == "Standard"
