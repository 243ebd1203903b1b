"""The Plan page: the sales task, both sizings, the gap, and the scenarios side by side."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from salesmgmt.charts import figure_html
from salesmgmt.decorators import people_only
from salesmgmt.page_actions import call_service_or_flash, submit_form
from salesmgmt.visibility import plans_sales_force

from . import selectors, services
from .charts import LABELS, capacity_chart, sizing_chart
from .engine import Sizing
from .forms import CoverageForm, PlannedHireForm, ScenarioForm, SegmentForm


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
):
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
    }
    return render(request, "planning/plan.html", context, status=status)


@people_only
def plan(request: HttpRequest) -> HttpResponse:
    _planner(request)
    return _render(request)


@people_only
@require_POST
def scenario_create(request: HttpRequest) -> HttpResponse:
    _planner(request)
    form = ScenarioForm(request.POST)
    scenario, status = submit_form(
        form, lambda: services.scenario_create(actor=request.user, **form.cleaned_data)
    )
    if scenario is not None:
        messages.success(request, f"Saved the scenario {scenario}.")
        return redirect(reverse("planning:plan"))
    return _render(request, form, status)


@people_only
@require_POST
def scenario_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _planner(request)
    scenario = get_object_or_404(selectors.scenario_list(), pk=pk)
    _, done = call_service_or_flash(
        request, lambda: services.scenario_delete(actor=request.user, scenario=scenario)
    )
    if done:
        messages.success(request, f"Deleted the scenario {scenario.name}.")
    return redirect(reverse("planning:plan"))


@people_only
@require_POST
def planned_hire_create(request: HttpRequest) -> HttpResponse:
    _planner(request)
    form = PlannedHireForm(request.POST)
    hire, status = submit_form(
        form, lambda: services.planned_hire_create(actor=request.user, **form.cleaned_data)
    )
    if hire is not None:
        messages.success(request, f"Planned {hire}.")
        return redirect(reverse("planning:plan"))
    return _render(request, status=status, hire_form=form)


@people_only
@require_POST
def planned_hire_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _planner(request)
    hire = get_object_or_404(selectors.planned_hire_list(), pk=pk)
    _, done = call_service_or_flash(
        request, lambda: services.planned_hire_delete(actor=request.user, hire=hire)
    )
    if done:
        messages.success(request, "Removed the planned hire.")
    return redirect(reverse("planning:plan"))


@people_only
@require_POST
def segment_create(request: HttpRequest) -> HttpResponse:
    _planner(request)
    form = SegmentForm(request.POST)
    segment, status = submit_form(
        form, lambda: services.segment_create(actor=request.user, **form.cleaned_data)
    )
    if segment is not None:
        messages.success(request, f"Added the segment {segment}.")
        return redirect(reverse("planning:plan"))
    return _render(request, status=status, segment_form=form)


@people_only
@require_POST
def coverage_set(request: HttpRequest) -> HttpResponse:
    _planner(request)
    form = CoverageForm(request.POST)
    coverage, status = submit_form(
        form, lambda: services.coverage_set(actor=request.user, **form.cleaned_data)
    )
    if coverage is not None:
        messages.success(request, f"Saved the coverage {coverage}.")
        return redirect(reverse("planning:plan"))
    return _render(request, status=status, coverage_form=form)
