"""The Plan page: the sales task, both sizings, the gap, and the scenarios side by side."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from salesmgmt.charts import figure_html
from salesmgmt.decorators import people_only
from salesmgmt.page_actions import call_service_or_flash, submit_then
from salesmgmt.visibility import plans_sales_force
from territories.selectors import ramp_percentages

from . import selectors, services
from .charts import LABELS, capacity_chart, sizing_chart
from .engine import Sizing
from .forms import (
    CoverageForm,
    MarkHiredForm,
    PlannedHireForm,
    RoleCapacityForm,
    ScenarioForm,
    SegmentForm,
)
from .hiring import plan_vs_actual
from .models import PLANNED_ROLES, RoleCapacity


def _planner(request: HttpRequest) -> None:
    if not plans_sales_force(request.user):  # type: ignore[arg-type]
        raise PermissionDenied("Only executives and administrators plan the sales force.")


def comparison_rows(named: list[tuple[str, Sizing]]) -> list[dict]:
    """One row per role (and one for quota carriers): today, then each sizing's people."""
    first = named[0][1]
    rows = [
        {
            "label": LABELS[role],
            "today": int(today),
            "cells": [
                (s.by_role["fte"].iloc[i], s.by_role["people"].iloc[i], s.by_role["gap"].iloc[i])
                for _, s in named
            ],
        }
        for i, (role, today) in enumerate(
            zip(first.by_role["sales_role"], first.by_role["today"], strict=True)
        )
    ]
    rows.append(
        {
            "label": "Quota carriers by revenue (AE + AM)",
            "today": first.quota_carriers_today,
            "cells": [(s.revenue_fte, s.revenue_reps, s.revenue_gap) for _, s in named],
        }
    )
    return rows


def _render(
    request: HttpRequest,
    form: ScenarioForm | None = None,
    status: int = 200,
    hire_form: PlannedHireForm | None = None,
    segment_form: SegmentForm | None = None,
    coverage_form: CoverageForm | None = None,
) -> HttpResponse:
    view = selectors.plan_view()
    capacity = selectors.capacity_view()
    named = [("Plan", view.baseline), *((s.name, s.sizing) for s in view.scenarios)]
    context = {
        "view": view,
        "columns": named,
        "rows": comparison_rows(named),
        "workload": view.baseline.workload.to_dict("records"),
        "form": form or ScenarioForm(target=view.target),
        "chart": figure_html(sizing_chart(named)),
        "uses_charts": True,
        "capacity": capacity,
        "capacity_months": capacity.months.to_dict("records"),
        "cohorts": capacity.curve.cohorts.to_dict("records"),
        "capacity_chart": figure_html(capacity_chart(capacity.months)),
        "hire_form": hire_form or PlannedHireForm(),
        "segment_form": segment_form or SegmentForm(),
        "coverage_form": coverage_form or CoverageForm(),
        "actual": plan_vs_actual(),
    }
    return render(request, "planning/plan.html", context, status=status)


@people_only
def plan(request: HttpRequest) -> HttpResponse:
    _planner(request)
    return _render(request)


def _to_plan(_saved: object) -> HttpResponse:
    return redirect(reverse("planning:plan"))


def _create(
    request: HttpRequest,
    form_class: type[forms.Form],
    service: Callable[..., Model],
    done: str,
    form_name: str,
) -> HttpResponse:
    """The shape of every "add" on the Plan page: parse the form, call the service with the
    planner and its cleaned data, then back to the page, or the page again with the form's
    errors (400)."""
    _planner(request)
    form = form_class(request.POST)
    made, status = submit_then(
        request,
        form,
        lambda: service(actor=request.user, **form.cleaned_data),
        then=_to_plan,
        done=done.format,
    )
    if made is not None:
        return made
    return _render(request, status=status, **{form_name: form})  # type: ignore[arg-type]


def _delete(
    request: HttpRequest,
    rows: QuerySet,
    pk: int,
    service: Callable[..., None],
    keyword: str,
    done: str,
) -> HttpResponse:
    """The shape of every "delete" on the Plan page: the row (404 if none), the service, a
    message, back to the page."""
    _planner(request)
    row = get_object_or_404(rows, pk=pk)
    _, deleted = call_service_or_flash(
        request, lambda: service(actor=request.user, **{keyword: row})
    )
    if deleted:
        messages.success(request, done.format(row))
    return redirect(reverse("planning:plan"))


@people_only
@require_POST
def scenario_create(request: HttpRequest) -> HttpResponse:
    return _create(
        request, ScenarioForm, services.scenario_create, "Saved the scenario {}.", "form"
    )


@people_only
@require_POST
def scenario_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return _delete(
        request, selectors.scenario_list(), pk, services.scenario_delete, "scenario",
        "Deleted the scenario {}.",
    )  # fmt: skip


@people_only
@require_POST
def planned_hire_create(request: HttpRequest) -> HttpResponse:
    return _create(
        request, PlannedHireForm, services.planned_hire_create, "Planned {}.", "hire_form"
    )


@people_only
@require_POST
def planned_hire_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return _delete(
        request, selectors.planned_hire_list(), pk, services.planned_hire_delete, "hire",
        "Removed the planned hire.",
    )  # fmt: skip


@people_only
@require_POST
def segment_create(request: HttpRequest) -> HttpResponse:
    return _create(
        request, SegmentForm, services.segment_create, "Added the segment {}.", "segment_form"
    )


@people_only
@require_POST
def segment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return _delete(
        request, selectors.segment_list(), pk, services.segment_delete, "segment",
        "Deleted the segment {} and its coverage.",
    )  # fmt: skip


@people_only
@require_POST
def coverage_set(request: HttpRequest) -> HttpResponse:
    return _create(
        request, CoverageForm, services.coverage_set, "Saved the coverage {}.", "coverage_form"
    )


@people_only
def segment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """A segment's own page: change its name, rules and products, or delete it."""
    _planner(request)
    segment = get_object_or_404(selectors.segment_list(), pk=pk)
    form = SegmentForm(request.POST) if request.method == "POST" else SegmentForm.of(segment)
    saved, status = submit_then(
        request,
        form,
        lambda: services.segment_update(actor=request.user, segment=segment, **form.cleaned_data),
        then=_to_plan,
        done="Saved the segment {}.".format,
    )
    if saved is not None:
        return saved
    context = {"segment": segment, "form": form}
    return render(request, "planning/segment.html", context, status=status)


@people_only
def role_capacity(request: HttpRequest) -> HttpResponse:
    """Each sales role's selling hours a year, hours per activity and attrition, editable."""
    _planner(request)
    posted = RoleCapacityForm(request.POST)
    saved, status = submit_then(
        request,
        posted,
        lambda: services.role_capacity_set(actor=request.user, **posted.cleaned_data),
        then=lambda _: redirect(reverse("planning:roles")),
        done="Saved {}.".format,
    )
    if saved is not None:
        return saved
    rows = {row.sales_role: row for row in selectors.role_capacity_list()}
    lines = []
    for role, label in PLANNED_ROLES:
        row = rows.get(role)
        if status != 200 and posted.data.get("sales_role") == role:
            form = posted
        else:
            initial = {"sales_role": role}
            if row is None:
                initial["selling_hours"] = selectors.DEFAULT_SELLING_HOURS
            form = RoleCapacityForm(instance=row or RoleCapacity(), initial=initial, role=role)
        lines.append({"role": role, "label": label, "row": row, "form": form})
    context = {"lines": lines, "default_hours": selectors.DEFAULT_SELLING_HOURS}
    return render(request, "planning/roles.html", context, status=status)


@people_only
def planned_hire_hire(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a planned hire hired: the person, their territory and their ramped quotas."""
    _planner(request)
    hire = get_object_or_404(selectors.planned_hire_list(), pk=pk)
    if request.method == "POST":
        form = MarkHiredForm(request.POST)
    else:
        form = MarkHiredForm(initial={"hired_on": hire.start_month})
    saved, status = submit_then(
        request,
        form,
        lambda: services.planned_hire_mark_hired(
            actor=request.user, hire=hire, **form.cleaned_data
        ),
        then=lambda _: redirect(reverse("planning:plan") + "#actual-title"),
        done=lambda hired: f"Hired {hired.hired_user.get_full_name()}.",
    )
    if saved is not None:
        return saved
    curve, past = selectors.learned_ramp()
    context = {
        "hire": hire,
        "form": form,
        "curve": curve,
        "ramp": ramp_percentages(),
        "history": past,
    }
    return render(request, "planning/hire.html", context, status=status)
