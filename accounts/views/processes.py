"""Setup pages (administrators): sales processes, their stages and exit milestones.

Each write is one accounts.services call; a refusal (a stage deals stand in, a duplicate name)
is shown on the form or, for the buttons of a row, as a message on the process page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from salesmgmt.decorators import people_only
from salesmgmt.page_actions import call_service_or_flash, submit_then

from .. import selectors, services
from ..models import ForecastCategory, Milestone, SalesProcess, Stage
from ..process_forms import MilestoneForm, MoveForm, ProcessForm, StageForm, moved


def admin_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in administrators only (integrators use the API)."""

    @people_only
    @wraps(view)
    def wrapper(request, *args, **kwargs) -> HttpResponse:
        if not services.may_configure_processes(request.user):
            raise PermissionDenied("Only an administrator can change sales processes.")
        return view(request, *args, **kwargs)

    return wrapper


def _detail(process_id: int) -> HttpResponse:
    return redirect("accounts:process_detail", process_id=process_id)


@admin_only
def process_list(request: HttpRequest) -> HttpResponse:
    form = ProcessForm(request.POST or None)
    created, status = submit_then(
        request,
        form,
        lambda: services.sales_process_create(actor=request.user, **form.cleaned_data),
        then=lambda process: _detail(process.pk),
        done="Created the process {}; now add its stages.".format,
    )
    if created is not None:
        return created
    context = {"processes": selectors.process_list(), "form": form}
    return render(request, "accounts/process_list.html", context, status=status)


@admin_only
def process_detail(request: HttpRequest, process_id: int) -> HttpResponse:
    process = get_object_or_404(selectors.process_list(), pk=process_id)
    initial = {f: getattr(process, f) for f in ProcessForm.base_fields}
    form = ProcessForm(request.POST or None, initial=initial)
    saved, status = submit_then(
        request,
        form,
        lambda: services.sales_process_update(
            actor=request.user, process=process, **form.cleaned_data
        ),
        then=lambda _: _detail(process.pk),
        done="Saved {}.".format,
    )
    if saved is not None:
        return saved
    context = {
        "process": process,
        "form": form,
        "stage_form": StageForm(auto_id="new-stage-%s"),
        "categories": ForecastCategory.choices,
    }
    return render(request, "accounts/process_detail.html", context, status=status)


def flash_invalid(request: HttpRequest, form) -> None:
    for field, errors in form.errors.items():
        known = field in form.fields
        label = (form.fields[field].label or field.replace("_", " ")) if known else ""
        messages.error(request, f"{label.capitalize()}: {' '.join(errors)}".lstrip(": "))


def run_row_form(request: HttpRequest, form, write: Callable[[dict], object], done: str) -> None:
    """Validate a row's form and run its write; the outcome, or the form's errors, as
    messages on the page the view goes back to."""
    if not form.is_valid():
        flash_invalid(request, form)
        return
    _, ok = call_service_or_flash(request, lambda: write(form.cleaned_data))
    if ok:
        messages.success(request, done)


def _run(request: HttpRequest, form, process_id: int, write: Callable[[dict], object], done: str):
    """A row's form, then back to the process page."""
    run_row_form(request, form, write, done)
    return _detail(process_id)


@admin_only
@require_POST
def stage_add(request: HttpRequest, process_id: int) -> HttpResponse:
    process = get_object_or_404(SalesProcess, pk=process_id)
    return _run(
        request,
        StageForm(request.POST),
        process.pk,
        lambda data: services.stage_create(actor=request.user, process=process, **data),
        "Stage added.",
    )


@admin_only
@require_POST
def stage_edit(request: HttpRequest, stage_id: int) -> HttpResponse:
    stage = get_object_or_404(Stage, pk=stage_id)
    return _run(
        request,
        StageForm(request.POST),
        stage.process_id,
        lambda data: services.stage_update(actor=request.user, stage=stage, **data),
        f"Saved the stage {stage}.",
    )


@admin_only
@require_POST
def stage_move(request: HttpRequest, stage_id: int) -> HttpResponse:
    stage = get_object_or_404(Stage, pk=stage_id)
    ids = list(Stage.objects.filter(process_id=stage.process_id).values_list("pk", flat=True))
    return _run(
        request,
        MoveForm(request.POST),
        stage.process_id,
        lambda data: services.stage_reorder(
            actor=request.user,
            process=stage.process,
            stage_ids=moved(ids, stage.pk, data["direction"]),
        ),
        "Stages reordered.",
    )


@admin_only
@require_POST
def stage_delete(request: HttpRequest, stage_id: int) -> HttpResponse:
    stage = get_object_or_404(Stage, pk=stage_id)
    _, ok = call_service_or_flash(
        request, lambda: services.stage_delete(actor=request.user, stage=stage)
    )
    if ok:
        messages.success(request, f"Deleted the stage {stage}.")
    return _detail(stage.process_id)


@admin_only
@require_POST
def milestone_add(request: HttpRequest, stage_id: int) -> HttpResponse:
    stage = get_object_or_404(Stage, pk=stage_id)
    return _run(
        request,
        MilestoneForm(request.POST),
        stage.process_id,
        lambda data: services.milestone_create(actor=request.user, stage=stage, **data),
        "Milestone added.",
    )


@admin_only
@require_POST
def milestone_edit(request: HttpRequest, milestone_id: int) -> HttpResponse:
    milestone = get_object_or_404(Milestone.objects.select_related("stage"), pk=milestone_id)
    return _run(
        request,
        MilestoneForm(request.POST),
        milestone.stage.process_id,
        lambda data: services.milestone_update(actor=request.user, milestone=milestone, **data),
        f"Saved the milestone {milestone}.",
    )


@admin_only
@require_POST
def milestone_move(request: HttpRequest, milestone_id: int) -> HttpResponse:
    milestone = get_object_or_404(Milestone.objects.select_related("stage"), pk=milestone_id)
    ids = list(Milestone.objects.filter(stage_id=milestone.stage_id).values_list("pk", flat=True))
    return _run(
        request,
        MoveForm(request.POST),
        milestone.stage.process_id,
        lambda data: services.milestone_reorder(
            actor=request.user,
            stage=milestone.stage,
            milestone_ids=moved(ids, milestone.pk, data["direction"]),
        ),
        "Milestones reordered.",
    )


@admin_only
@require_POST
def milestone_delete(request: HttpRequest, milestone_id: int) -> HttpResponse:
    milestone = get_object_or_404(Milestone.objects.select_related("stage"), pk=milestone_id)
    _, ok = call_service_or_flash(
        request, lambda: services.milestone_delete(actor=request.user, milestone=milestone)
    )
    if ok:
        messages.success(request, f"Deleted the milestone {milestone}.")
    return _detail(milestone.stage.process_id)
