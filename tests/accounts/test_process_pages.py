"""The sales-process setup pages: administrators only; every write through the services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Milestone, SalesProcess, Stage
from tests.factories import MilestoneCompletionFactory, OpportunityFactory, build_process


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_admin_sets_up_a_process_on_pages(admin_client):
    response = admin_client.post(
        reverse("accounts:process_list"), {"name": "Enterprise", "requires_verification": "on"}
    )
    process = SalesProcess.objects.get(name="Enterprise")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:process_detail", args=[process.pk])
    assert process.requires_verification
    add = reverse("accounts:stage_add", args=[process.pk])
    admin_client.post(add, {"name": "Qualify", "default_forecast_category": "pipeline"})
    admin_client.post(add, {"name": "Commit", "default_forecast_category": "commit"})
    first, second = process.stages.order_by("order")
    admin_client.post(
        reverse("accounts:milestone_add", args=[first.pk]),
        {"name": "Budget", "evidence_required": "on"},
    )
    assert Milestone.objects.get(stage=first).evidence_required
    admin_client.post(reverse("accounts:stage_move", args=[second.pk]), {"direction": "up"})
    assert list(process.stages.order_by("order").values_list("name", flat=True)) == [
        "Commit",
        "Qualify",
    ]
    admin_client.post(
        reverse("accounts:stage_edit", args=[first.pk]),
        {"name": "Qualified", "default_forecast_category": "best_case"},
    )
    first.refresh_from_db()
    assert (first.name, first.default_forecast_category) == ("Qualified", "best_case")
    page = admin_client.get(reverse("accounts:process_detail", args=[process.pk]))
    assert page.status_code == 200
    assert "Qualified" in page.content.decode()
    assert "Budget" in page.content.decode()


def test_duplicate_name_is_shown_on_the_form(admin_client):
    build_process(name="Standard")
    response = admin_client.post(reverse("accounts:process_list"), {"name": "Standard"})
    assert response.status_code == 400
    assert "already exists" in response.content.decode()


def test_refused_delete_says_why(admin_client):
    process = build_process()
    stage = process.stages.order_by("order").first()
    OpportunityFactory(process=process, stage=stage)
    response = admin_client.post(reverse("accounts:stage_delete", args=[stage.pk]), follow=True)
    assert "1 deal(s) stand in the stage “Qualify”" in response.content.decode()
    assert Stage.objects.filter(pk=stage.pk).exists()
    milestone = stage.milestones.first()
    MilestoneCompletionFactory(opportunity=OpportunityFactory(process=process), milestone=milestone)
    response = admin_client.post(
        reverse("accounts:milestone_delete", args=[milestone.pk]), follow=True
    )
    assert "cannot be deleted" in response.content.decode()
    assert Milestone.objects.filter(pk=milestone.pk).exists()


@pytest.mark.parametrize("persona", ["rep_a", "manager_a", "executive"])
def test_others_are_refused(db, client, request, persona):
    process = build_process()
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("accounts:process_list")).status_code == 403
    response = client.post(reverse("accounts:process_detail", args=[process.pk]), {"name": "X"})
    assert response.status_code == 403
    assert SalesProcess.objects.get().name == "Standard"
