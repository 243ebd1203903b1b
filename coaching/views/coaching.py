"""Coaching pages: the per-rep view with its agenda, debriefs, plans, resource requests."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from accounts import selectors as account_selectors
from accounts.models import Opportunity
from salesmgmt.charts import figure_html
from salesmgmt.decorators import people_only
from salesmgmt.models import User
from salesmgmt.page_actions import call_service, call_service_or_flash
from salesmgmt.selectors import user_list
from salesmgmt.visibility import leads_people, manages

from .. import charts, selectors, services
from ..compliance import Check
from ..forms import (
    DebriefForm,
    DecisionForm,
    EvaluationForm,
    GoalForm,
    PlanActionForm,
    PlanForm,
    PlanProgrammeForm,
    ResourceRequestForm,
    SkillRatingForm,
)
from ..models import MANAGER_KINDS, ResourceRequest
from .common import int_param

LIST_SIZE = 50
DEAL_CHOICES = 200


def _reports(viewer: User) -> list[User]:
    """The people below ``viewer`` whom they coach (1 query)."""
    return [p for p in user_list(viewer=viewer) if manages(viewer, p)]


@people_only
@require_safe
def rep_coaching(request: HttpRequest, pk: int) -> HttpResponse:
    """How a rep sells: conversion and days in stage against the team, trends, activity mix,
    documentation compliance with the failing records, and the suggested coaching agenda."""
    viewer = request.user
    person = selectors.person_get(viewer=viewer, pk=pk)
    data = selectors.rep_coaching(viewer=viewer, person=person)
    labels = {order: stage.name for order, stage in data.stages.items()}
    chart = {}
    if not data.comparison.empty:
        chart["conversion"] = figure_html(charts.conversion_figure(data.comparison, labels))
    if not data.trends.empty:
        chart["trends"] = figure_html(charts.trends_figure(data.trends))
    if len(data.activity_mix):
        chart["activity"] = figure_html(charts.activity_mix_figure(data.activity_mix))
    if not data.ratings.empty:
        chart["ratings"] = figure_html(charts.skill_ratings_figure(data.ratings))
    comparison = [
        {"order": int(order), "stage": labels.get(int(order), f"Stage {order}"), **row}
        for order, row in data.comparison.astype(object)
        .where(data.comparison.notna(), None)
        .to_dict("index")
        .items()
    ]
    context = {
        "person": person,
        "data": data,
        "comparison": comparison,
        "charts": chart,
        "uses_charts": bool(chart),
        "check_labels": Check.LABELS,
        "can_coach": manages(viewer, person),
        "rating_form": SkillRatingForm(),
    }
    return render(request, "coaching/rep_coaching.html", context)


@people_only
@require_POST
def skill_rate(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.person_get(viewer=request.user, pk=pk)
    form = SkillRatingForm(request.POST)
    if form.is_valid():
        saved, _status = call_service(
            form, lambda: services.skill_rate(actor=request.user, rep=person, **form.cleaned_data)
        )
        if saved is not None:
            messages.success(request, f"Rated {saved.skill} {saved.rating}/5.")
            return redirect(reverse("coaching:rep_coaching", args=[pk]) + "#skills")
    messages.error(request, " ".join(m for errs in form.errors.values() for m in errs))
    return redirect(reverse("coaching:rep_coaching", args=[pk]) + "#skills")


# --- debriefs -----------------------------------------------------------------------------------


@people_only
def debrief_list(request: HttpRequest) -> HttpResponse:
    """Debriefs the viewer gave or received; managers record a new one here."""
    viewer = request.user
    reports = _reports(viewer)
    initial = {"held_on": timezone.localdate(), "rep": int_param(request, "rep")}
    form = DebriefForm(request.POST or None, initial=initial)
    form.set_people(reports)
    if reports:
        form.set_opportunities(
            account_selectors.opportunity_list(
                viewer=viewer, status=Opportunity.Status.OPEN
            ).filter(owner__in=[p.pk for p in reports])[:DEAL_CHOICES]
        )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = dict(form.cleaned_data)
            deal_id = data.pop("opportunity")
            deal = account_selectors.opportunity_get(viewer=viewer, pk=deal_id) if deal_id else None
            debrief, status = call_service(
                form,
                lambda: services.debrief_create(actor=viewer, opportunity=deal, **data),
            )
            if debrief is not None:
                messages.success(request, f"Debrief for {debrief.rep} saved.")
                return redirect("coaching:debrief_list")
    context = {
        "debriefs": selectors.debrief_list(viewer=viewer)[:LIST_SIZE],
        "form": form if reports else None,
    }
    return render(request, "coaching/debrief_list.html", context, status=status)


# --- development plans ----------------------------------------------------------------------------


@people_only
def plan_list(request: HttpRequest) -> HttpResponse:
    viewer = request.user
    reports = _reports(viewer)
    form = PlanForm(request.POST or None)
    form.set_people(reports)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            plan, status = call_service(
                form, lambda: services.plan_create(actor=viewer, **form.cleaned_data)
            )
            if plan is not None:
                messages.success(request, f"Plan “{plan}” started.")
                return redirect("coaching:plan_detail", pk=plan.pk)
    context = {
        "plans": selectors.plan_list(viewer=viewer)[:LIST_SIZE],
        "form": form if reports else None,
    }
    return render(request, "coaching/plan_list.html", context, status=status)


def render_plan(request: HttpRequest, plan, *, status: int = 200, **forms) -> HttpResponse:
    if status >= 400:
        messages.error(request, "Nothing was saved. See the highlighted form below.")
    can_manage = manages(request.user, plan.rep)
    # The programme the plan follows: its progress shows here instead of a parallel list.
    programme_progress = None
    if plan.enrolment is not None:
        programme_progress = selectors.enrolment_progress(enrolments=[plan.enrolment])[
            plan.enrolment.pk
        ]
    programme_form = None
    if can_manage:
        programme_form = PlanProgrammeForm(initial={"enrolment": plan.enrolment_id})
        programme_form.fields["enrolment"].queryset = selectors.enrolment_list(
            viewer=request.user
        ).filter(rep=plan.rep)
    context = {
        "plan": plan,
        "programme_progress": programme_progress,
        "programme_form": programme_form,
        "can_manage": can_manage,
        "is_rep": request.user.pk == plan.rep_id,
        "goal_form": forms.get("goal_form") or GoalForm(),
        "action_form": forms.get("action_form") or PlanActionForm(),
        "action_goal": forms.get("action_goal"),
        "evaluation_form": forms.get("evaluation_form") or EvaluationForm(),
        "today": timezone.localdate(),
    }
    return render(request, "coaching/plan_detail.html", context, status=status)


@people_only
@require_safe
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_plan(request, selectors.plan_get(viewer=request.user, pk=pk))


@people_only
@require_POST
def goal_add(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_get(viewer=request.user, pk=pk)
    form = GoalForm(request.POST)
    status = 400
    if form.is_valid():
        goal, status = call_service(
            form, lambda: services.goal_add(actor=request.user, plan=plan, **form.cleaned_data)
        )
        if goal is not None:
            return redirect("coaching:plan_detail", pk=pk)
    return render_plan(request, plan, status=status, goal_form=form)


@people_only
@require_POST
def plan_action_add(request: HttpRequest, pk: int) -> HttpResponse:
    goal = selectors.goal_get(viewer=request.user, pk=pk)
    form = PlanActionForm(request.POST)
    status = 400
    if form.is_valid():
        action, status = call_service(
            form, lambda: services.action_add(actor=request.user, goal=goal, **form.cleaned_data)
        )
        if action is not None:
            return redirect("coaching:plan_detail", pk=goal.plan_id)
    plan = selectors.plan_get(viewer=request.user, pk=goal.plan_id)
    return render_plan(request, plan, status=status, action_form=form, action_goal=goal.pk)


@people_only
@require_POST
def plan_action_done(request: HttpRequest, pk: int) -> HttpResponse:
    action = selectors.action_get(viewer=request.user, pk=pk)
    call_service_or_flash(
        request, lambda: services.action_complete(actor=request.user, action=action)
    )
    return redirect("coaching:plan_detail", pk=action.goal.plan_id)


@people_only
@require_POST
def plan_evaluate(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_get(viewer=request.user, pk=pk)
    form = EvaluationForm(request.POST)
    status = 400
    if form.is_valid():
        done, status = call_service(
            form,
            lambda: services.plan_evaluate(
                actor=request.user, plan=plan, evaluation=form.cleaned_data["evaluation"]
            ),
        )
        if done is not None:
            messages.success(request, "Plan evaluated.")
            return redirect("coaching:plan_detail", pk=pk)
    return render_plan(request, plan, status=status, evaluation_form=form)


# --- resource requests --------------------------------------------------------------------------


def render_requests(
    request: HttpRequest, *, status: int = 200, form=None, failed=None
) -> HttpResponse:
    viewer = request.user
    requests = list(selectors.request_list(viewer=viewer)[:LIST_SIZE])
    deal_id = int_param(request, "opportunity")
    deal = account_selectors.opportunity_get(viewer=viewer, pk=deal_id) if deal_id else None
    if form is None and deal is not None:
        form = ResourceRequestForm(initial={"opportunity": deal.pk})
    if status >= 400:
        messages.error(request, "Nothing was saved. See the highlighted form below.")
    context = {
        "rows": _request_rows(viewer, requests),
        "deal": deal,
        "form": form,
        "failed": failed,
        "decision_form": DecisionForm(),
        "pending": ResourceRequest.Status.PENDING,
        **_allocation_context(viewer, deal),
    }
    return render(request, "coaching/request_list.html", context, status=status)


def _allocation_context(viewer: User, deal: Opportunity | None) -> dict:
    """The allocation criteria of every kind (and whether ``deal`` meets them now), and the
    viewer's own weeks when they lead people: hours booked against their capacity."""
    policies = selectors.policy_list()
    # Both in the kinds' order (ResourceKind): the deal's check sits beside its kind's policy.
    checks = [c for _, c in selectors.deal_criteria(opportunity=deal)] if deal else None
    return {
        "policies": [
            (
                label,
                policy,
                selectors.request_hours(kind=kind, policy=policy)
                if kind in MANAGER_KINDS
                else None,
                checks[i] if checks else None,
            )
            for i, (kind, label, policy) in enumerate(policies)
        ],
        "deal_criteria": checks,
        "weeks": selectors.week_loads(manager_id=viewer.pk, first_week=timezone.localdate())
        if leads_people(viewer)
        else None,
        "manager_kinds": MANAGER_KINDS,
    }


def _request_rows(viewer: User, requests: list[ResourceRequest]) -> list[tuple]:
    criteria = selectors.request_criteria(requests=requests)
    return [(r, criteria.get(r.pk), manages(viewer, r.opportunity.owner)) for r in requests]


@people_only
@require_safe
def request_list(request: HttpRequest) -> HttpResponse:
    """Pre-sales requests on visible deals with their criteria; ``?opportunity=`` to ask."""
    return render_requests(request)


@people_only
@require_POST
def request_create(request: HttpRequest) -> HttpResponse:
    viewer = request.user
    form = ResourceRequestForm(request.POST)
    status = 400
    if form.is_valid():
        data = dict(form.cleaned_data)
        deal = account_selectors.opportunity_get(viewer=viewer, pk=data.pop("opportunity"))
        if deal.status != Opportunity.Status.OPEN:
            form.add_error(None, "Pre-sales help is for open opportunities.")
        else:
            created, status = call_service(
                form,
                lambda: services.resource_request_create(actor=viewer, opportunity=deal, **data),
            )
            if created is not None:
                messages.success(request, f"Requested {created.get_kind_display()} for {deal}.")
                return redirect("coaching:request_list")
    return render_requests(request, status=status, form=form)


@people_only
@require_POST
def request_decide(request: HttpRequest, pk: int) -> HttpResponse:
    resource_request = selectors.request_get(viewer=request.user, pk=pk)
    form = DecisionForm(request.POST)
    status = 400
    if form.is_valid():
        decided, status = call_service(
            form,
            lambda: services.resource_request_decide(
                actor=request.user,
                request=resource_request,
                approve=form.cleaned_data["decision"] == "approve",
                note=form.cleaned_data["note"],
                over_capacity=form.cleaned_data["over_capacity"],
            ),
        )
        if decided is not None:
            messages.success(request, f"Request {decided.get_status_display().lower()}.")
            return redirect("coaching:request_list")
    return render_requests(request, status=status, failed=(pk, form))
