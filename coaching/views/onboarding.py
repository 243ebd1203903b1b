"""Onboarding pages: the team's new hires and their progress, programmes and their editor,
one enrolment's steps (where the manager certifies with evidence)."""

from __future__ import annotations

import pandas as pd
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from salesmgmt.decorators import page_for, people_only
from salesmgmt.page_actions import call_service, call_service_or_flash, submit_then
from salesmgmt.selectors import user_list
from salesmgmt.visibility import leads_people, manages

from .. import selectors, services
from ..forms import (
    EnrolForm,
    PlanProgrammeForm,
    ProgrammeForm,
    ProgrammeStepForm,
    StepCompleteForm,
)
from ..models import Enrolment, ProgrammeStep
from ..services import may_edit_programmes
from .common import post_id

EDITORS_ONLY = "Programmes are written by managers and administrators."


def _records(frame: pd.DataFrame) -> list[dict]:
    """A frame's rows for a template, NaN as None."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


@people_only
@require_safe
def onboarding(request: HttpRequest) -> HttpResponse:
    """Each visible new hire's progress; for people who lead, their days to first deal and to
    quota against earlier cohorts, the cohorts, and each programme's effect."""
    viewer = request.user
    leads = leads_people(viewer)
    view = selectors.onboarding_view(viewer=viewer, with_figures=leads)
    context = {
        "view": view,
        "leads": leads,
        "can_edit": may_edit_programmes(viewer),
        "cohorts": _records(view.cohorts),
        "effects": [
            {
                "programme": effect.programme,
                "groups": [
                    {"label": label, **row}
                    for label, row in zip(effect.table.index, _records(effect.table), strict=True)
                ],
            }
            for effect in view.effects
        ],
    }
    return render(request, "coaching/onboarding.html", context)


@page_for(may_edit_programmes, EDITORS_ONLY)
def programme_list(request: HttpRequest) -> HttpResponse:
    form = ProgrammeForm(request.POST or None)
    created, status = submit_then(
        request,
        form,
        lambda: services.programme_create(actor=request.user, **form.cleaned_data),
        then=lambda programme: redirect("coaching:programme_detail", pk=programme.pk),
        done="Programme “{}” created; add its steps.".format,
    )
    if created is not None:
        return created
    context = {"programmes": selectors.programme_list()[:100], "form": form}
    return render(request, "coaching/programme_list.html", context, status=status)


def _render_programme(request: HttpRequest, pk: int, *, status: int = 200, **forms) -> HttpResponse:
    programme = selectors.programme_get(pk=pk)
    reports = [p for p in user_list(viewer=request.user) if manages(request.user, p)]
    enrol_form = forms.get("enrol_form") or EnrolForm()
    enrol_form.set_people(p for p in reports if p.role == "rep" and not p.is_org_unit)
    if status >= 400:
        messages.error(request, "Nothing was saved. See the highlighted form below.")
    context = {
        "programme": programme,
        "edit_form": forms.get("edit_form")
        or ProgrammeForm(
            initial={
                "name": programme.name,
                "description": programme.description,
                "sales_role": programme.sales_role,
                "is_default": programme.is_default,
                "launched_on": programme.launched_on,
            }
        ),
        "step_form": forms.get("step_form") or ProgrammeStepForm(),
        "enrol_form": enrol_form,
        "enrolments": selectors.enrolment_list(viewer=request.user).filter(programme=programme)[
            :100
        ],
    }
    return render(request, "coaching/programme_detail.html", context, status=status)


@page_for(may_edit_programmes, EDITORS_ONLY)
@require_safe
def programme_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_programme(request, pk)


@page_for(may_edit_programmes, EDITORS_ONLY)
@require_POST
def programme_edit(request: HttpRequest, pk: int) -> HttpResponse:
    programme = selectors.programme_get(pk=pk)
    form = ProgrammeForm(request.POST)

    def update():
        changes = dict(form.cleaned_data)
        changes["launched_on"] = changes["launched_on"] or programme.launched_on
        return services.programme_update(actor=request.user, programme=programme, **changes)

    saved, status = submit_then(
        request,
        form,
        update,
        then=lambda _: redirect("coaching:programme_detail", pk=pk),
        done=lambda _: "Programme saved.",
    )
    if saved is not None:
        return saved
    return _render_programme(request, pk, status=status, edit_form=form)


@page_for(may_edit_programmes, EDITORS_ONLY)
@require_POST
def programme_step_add(request: HttpRequest, pk: int) -> HttpResponse:
    programme = selectors.programme_get(pk=pk)
    form = ProgrammeStepForm(request.POST)
    added, status = submit_then(
        request,
        form,
        lambda: services.step_add(actor=request.user, programme=programme, **form.cleaned_data),
        then=lambda _: redirect("coaching:programme_detail", pk=pk),
    )
    if added is not None:
        return added
    return _render_programme(request, pk, status=status, step_form=form)


@page_for(may_edit_programmes, EDITORS_ONLY)
@require_POST
def programme_step_remove(request: HttpRequest, pk: int, step_id: int) -> HttpResponse:
    programme = selectors.programme_get(pk=pk)
    step = selectors.step_get(programme=programme, pk=step_id)
    call_service_or_flash(request, lambda: services.step_remove(actor=request.user, step=step))
    return redirect("coaching:programme_detail", pk=pk)


@page_for(may_edit_programmes, EDITORS_ONLY)
@require_POST
def programme_enrol(request: HttpRequest, pk: int) -> HttpResponse:
    programme = selectors.programme_get(pk=pk)
    form = EnrolForm(request.POST)
    form.set_people(p for p in user_list(viewer=request.user) if manages(request.user, p))
    enrolled, status = submit_then(
        request,
        form,
        lambda: services.enrolment_create(
            actor=request.user, programme=programme, **form.cleaned_data
        ),
        then=lambda enrolment: redirect("coaching:enrolment_detail", pk=enrolment.pk),
        done=lambda enrolment: f"{enrolment.rep} enrolled.",
    )
    if enrolled is not None:
        return enrolled
    return _render_programme(request, pk, status=status, enrol_form=form)


# --- one enrolment --------------------------------------------------------------------------------


def _render_enrolment(
    request: HttpRequest, enrolment: Enrolment, *, status: int = 200, form=None, step_id=None
) -> HttpResponse:
    viewer = request.user
    progress = selectors.enrolment_progress(enrolments=[enrolment])[enrolment.pk]
    can_certify = manages(viewer, enrolment.rep)
    debriefs = (
        selectors.debriefs_for_evidence(viewer=viewer, rep=enrolment.rep) if can_certify else []
    )
    if status >= 400:
        messages.error(request, "Nothing was saved. See the highlighted step below.")
    certify_form = StepCompleteForm()
    certify_form.set_debriefs(debriefs)
    context = {
        "enrolment": enrolment,
        "progress": progress,
        "can_certify": can_certify,
        "can_mark": can_certify or viewer.pk == enrolment.rep_id,
        "certify_form": certify_form,
        "error_form": form,
        "error_step": step_id,
        "plans": enrolment.plans.order_by("-created_at", "-id")[:10],
    }
    return render(request, "coaching/enrolment_detail.html", context, status=status)


@people_only
@require_safe
def enrolment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_enrolment(request, selectors.enrolment_get(viewer=request.user, pk=pk))


@people_only
@require_POST
def enrolment_step_complete(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a module done or certify a step with its evidence (a debrief, a note)."""
    viewer = request.user
    enrolment = selectors.enrolment_get(viewer=viewer, pk=pk)
    step = selectors.step_get(programme=enrolment.programme, pk=post_id(request, "step"))
    form = StepCompleteForm(request.POST)
    if step.kind == ProgrammeStep.Kind.CERTIFICATION:
        form.set_debriefs(selectors.debriefs_for_evidence(viewer=viewer, rep=enrolment.rep))
    status = 400
    if form.is_valid():
        done, status = call_service(
            form,
            lambda: services.step_complete(
                actor=viewer,
                enrolment=enrolment,
                step=step,
                debrief=form.cleaned_data.get("debrief"),
                note=form.cleaned_data.get("note", ""),
            ),
        )
        if done is not None:
            verb = "certified" if step.kind == ProgrammeStep.Kind.CERTIFICATION else "done"
            messages.success(request, f"“{step.title}” {verb}.")
            return redirect("coaching:enrolment_detail", pk=pk)
    return _render_enrolment(request, enrolment, status=status, form=form, step_id=step.pk)


@people_only
@require_POST
def plan_link_programme(request: HttpRequest, pk: int) -> HttpResponse:
    """The plan follows one of the rep's programme enrolments (or none)."""
    plan = selectors.plan_get(viewer=request.user, pk=pk)
    form = PlanProgrammeForm(request.POST)
    form.fields["enrolment"].queryset = selectors.enrolment_list(viewer=request.user).filter(
        rep=plan.rep
    )
    if form.is_valid():
        call_service_or_flash(
            request,
            lambda: services.plan_link_enrolment(
                actor=request.user, plan=plan, enrolment=form.cleaned_data["enrolment"]
            ),
        )
    else:
        messages.error(request, "Choose one of the rep's programmes.")
    return redirect("coaching:plan_detail", pk=pk)
