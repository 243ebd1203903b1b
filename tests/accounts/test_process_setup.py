"""First-run setup: admins define sales processes, stages and exit milestones (services)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts import services
from accounts.models import Milestone, SalesProcess, Stage
from salesmgmt.errors import PermissionDeniedError
from salesmgmt.models import AuditEvent
from tests.factories import MilestoneCompletionFactory, OpportunityFactory, build_process


def _build(admin):
    process = services.sales_process_create(actor=admin, name=" New business ")
    qualify = services.stage_create(actor=admin, process=process, name="Qualify")
    commit = services.stage_create(
        actor=admin, process=process, name="Negotiate", default_forecast_category="commit"
    )
    return process, qualify, commit


def test_admin_builds_a_process(admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        process, qualify, commit = _build(admin_user)
        services.milestone_create(
            actor=admin_user, stage=qualify, name="Budget confirmed", evidence_required=True
        )
    assert process.name == "New business"
    assert process.is_default  # the first process is the default one
    assert [(s.name, s.order) for s in process.stages.order_by("order")] == [
        ("Qualify", 1),
        ("Negotiate", 2),
    ]
    assert commit.default_forecast_category == "commit"
    assert Milestone.objects.get(stage=qualify).evidence_required
    assert callbacks  # the open deals' stages are re-derived after commit
    assert AuditEvent.objects.filter(action="sales_process.created", actor=admin_user).exists()


def test_only_one_default_process(admin_user):
    first, _, _ = _build(admin_user)
    second = services.sales_process_create(actor=admin_user, name="Renewals", is_default=True)
    first.refresh_from_db()
    assert second.is_default
    assert not first.is_default


@pytest.mark.parametrize("persona", ["rep_a", "manager_a", "executive"])
def test_only_admins_configure(request, persona):
    actor = request.getfixturevalue(persona)
    with pytest.raises(PermissionDeniedError):
        services.sales_process_create(actor=actor, name="Mine")
    assert not SalesProcess.objects.exists()


def test_duplicate_name_is_a_field_error(admin_user):
    _build(admin_user)
    with pytest.raises(ValidationError) as error:
        services.sales_process_create(actor=admin_user, name="New business")
    assert "name" in error.value.message_dict


def test_unknown_category_is_refused(admin_user):
    _process, qualify, _ = _build(admin_user)
    with pytest.raises(ValidationError) as error:
        services.stage_update(actor=admin_user, stage=qualify, default_forecast_category="maybe")
    assert "default_forecast_category" in error.value.message_dict


def test_stage_default_change_marks_the_deals_that_follow_it(admin_user, monkeypatch):
    process = build_process()
    stage = process.stages.order_by("order").first()
    follows = OpportunityFactory(process=process, stage=stage)
    chose = OpportunityFactory(process=process, stage=stage, forecast_category="commit")
    marked: list[list[int]] = []
    monkeypatch.setattr(
        services.refresh, "changed", lambda **kw: marked.append(list(kw.get("deals", [])))
    )
    services.stage_update(actor=admin_user, stage=stage, default_forecast_category="best_case")
    assert marked == [[follows.pk]]
    follows.refresh_from_db()
    assert follows.effective_forecast_category == "best_case"
    chose.refresh_from_db()
    assert chose.effective_forecast_category == "commit"
    # Same category again: nothing changes, nothing is marked.
    services.stage_update(actor=admin_user, stage=stage, default_forecast_category="best_case")
    assert marked == [[follows.pk]]


def test_reorder_stages(admin_user):
    process, qualify, commit = _build(admin_user)
    services.stage_reorder(actor=admin_user, process=process, stage_ids=[commit.pk, qualify.pk])
    assert list(process.stages.order_by("order").values_list("name", flat=True)) == [
        "Negotiate",
        "Qualify",
    ]
    with pytest.raises(ValidationError):
        services.stage_reorder(actor=admin_user, process=process, stage_ids=[commit.pk])


def test_reorder_milestones(admin_user):
    _, qualify, _ = _build(admin_user)
    one = services.milestone_create(actor=admin_user, stage=qualify, name="One")
    two = services.milestone_create(actor=admin_user, stage=qualify, name="Two")
    services.milestone_reorder(actor=admin_user, stage=qualify, milestone_ids=[two.pk, one.pk])
    assert list(qualify.milestones.order_by("order").values_list("name", flat=True)) == [
        "Two",
        "One",
    ]


def test_a_stage_with_deals_is_not_deleted(admin_user):
    process = build_process()
    stage = process.stages.order_by("order").first()
    OpportunityFactory(process=process, stage=stage)
    with pytest.raises(ValidationError, match="1 deal\\(s\\) stand in the stage “Qualify”"):
        services.stage_delete(actor=admin_user, stage=stage)
    assert Stage.objects.filter(pk=stage.pk).exists()


def test_completed_milestones_are_not_deleted(admin_user):
    process = build_process()
    last = process.stages.order_by("order").last()
    milestone = last.milestones.first()
    deal = OpportunityFactory(process=process, stage=process.stages.order_by("order").first())
    MilestoneCompletionFactory(opportunity=deal, milestone=milestone)
    with pytest.raises(ValidationError, match="was completed on 1 deal"):
        services.milestone_delete(actor=admin_user, milestone=milestone)
    with pytest.raises(ValidationError, match="were completed on 1 deal"):
        services.stage_delete(actor=admin_user, stage=last)
    assert Milestone.objects.filter(pk=milestone.pk).exists()


def test_unused_stage_and_milestone_are_deleted(admin_user):
    process, qualify, commit = _build(admin_user)
    milestone = services.milestone_create(actor=admin_user, stage=qualify, name="Gone")
    services.milestone_delete(actor=admin_user, milestone=milestone)
    services.stage_delete(actor=admin_user, stage=commit)
    assert list(process.stages.values_list("name", flat=True)) == ["Qualify"]
    assert not Milestone.objects.exists()


def test_a_new_exit_milestone_re_derives_open_deals_after_commit(
    admin_user, django_capture_on_commit_callbacks
):
    process = build_process(stages=(("Qualify", 1), ("Propose", 1)))
    qualify, propose = process.stages.order_by("order")
    deal = OpportunityFactory(process=process, stage=propose)
    MilestoneCompletionFactory(opportunity=deal, milestone=qualify.milestones.get())
    with django_capture_on_commit_callbacks(execute=True):
        services.milestone_create(actor=admin_user, stage=qualify, name="Champion named")
    deal.refresh_from_db()
    assert deal.stage_id == qualify.pk  # the new criterion is not met: back in Qualify
