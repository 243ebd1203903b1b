"""Writes for coaching: call debriefs, development plans, skill ratings, resource requests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Activity, Opportunity
from salesmgmt import webhooks
from salesmgmt.errors import PermissionDeniedError
from salesmgmt.models import Role, User, WebhookEvent
from salesmgmt.visibility import administers, manages

from .. import locks
from ..capacity import booked_week
from ..models import (
    MANAGER_KINDS,
    CallDebrief,
    DevelopmentAction,
    DevelopmentGoal,
    DevelopmentPlan,
    Enrolment,
    ManagerCapacity,
    ResourcePolicy,
    ResourceRequest,
    SkillRating,
    SkillTag,
)
from ..selectors.capacity import booking_manager, request_hours, week_loads
from ..selectors.coaching import request_criteria
from .reviews import ensure_works_on


def _ensure_manages(actor: User, rep: User, what: str) -> None:
    if not manages(actor, rep):
        raise PermissionDeniedError(f"Only {rep}'s manager can {what}.")


def _clean(instance) -> None:
    instance.full_clean()
    instance.save()


# --- debriefs -----------------------------------------------------------------------------------


@transaction.atomic
def debrief_create(
    *,
    actor: User,
    rep: User,
    held_on: dt.date,
    went_well: str,
    to_improve: str,
    skills: Iterable[SkillTag] = (),
    opportunity: Opportunity | None = None,
    activity: Activity | None = None,
) -> CallDebrief:
    """The manager's debrief of a joint call with one of their reps."""
    _ensure_manages(actor, rep, "debrief their calls")
    if opportunity is not None and opportunity.owner_id != rep.pk:
        raise ValidationError({"opportunity": f"Choose one of {rep}'s opportunities."})
    if activity is not None and activity.owner_id not in (rep.pk, actor.pk):
        raise ValidationError({"activity": "Choose the call you made together."})
    debrief = CallDebrief(
        rep=rep,
        manager=actor,
        held_on=held_on,
        went_well=went_well.strip(),
        to_improve=to_improve.strip(),
        opportunity=opportunity,
        activity=activity,
    )
    _clean(debrief)
    debrief.skills.set(list(skills))
    return debrief


# --- development plans ----------------------------------------------------------------------------


@transaction.atomic
def plan_create(
    *,
    actor: User,
    rep: User,
    title: str,
    assessed_needs: str,
    enrolment: Enrolment | None = None,
) -> DevelopmentPlan:
    """A plan for one of the actor's reps; ``enrolment`` links the programme it follows."""
    _ensure_manages(actor, rep, "start a development plan")
    if not assessed_needs.strip():
        raise ValidationError({"assessed_needs": "Start with the needs you assessed."})
    if enrolment is not None and enrolment.rep_id != rep.pk:
        raise ValidationError({"enrolment": f"Choose one of {rep}'s programmes."})
    plan = DevelopmentPlan(
        rep=rep,
        created_by=actor,
        title=title.strip(),
        assessed_needs=assessed_needs.strip(),
        enrolment=enrolment,
    )
    _clean(plan)
    return plan


def _ensure_active(plan: DevelopmentPlan) -> None:
    if plan.status != DevelopmentPlan.Status.ACTIVE:
        raise ValidationError("This plan has been evaluated; start a new one.")


@transaction.atomic
def goal_add(
    *,
    actor: User,
    plan: DevelopmentPlan,
    description: str,
    target_on: dt.date,
    skill: SkillTag | None = None,
) -> DevelopmentGoal:
    _ensure_manages(actor, plan.rep, "set goals")
    _ensure_active(plan)
    goal = DevelopmentGoal(
        plan=plan, description=description.strip(), target_on=target_on, skill=skill
    )
    _clean(goal)
    return goal


@transaction.atomic
def action_add(
    *, actor: User, goal: DevelopmentGoal, description: str, due_on: dt.date
) -> DevelopmentAction:
    """The rep or their manager plans an action towards a goal."""
    rep = goal.plan.rep
    if actor.pk != rep.pk:
        _ensure_manages(actor, rep, "plan actions")
    _ensure_active(goal.plan)
    action = DevelopmentAction(goal=goal, description=description.strip(), due_on=due_on)
    _clean(action)
    return action


@transaction.atomic
def action_complete(
    *, actor: User, action: DevelopmentAction, done_on: dt.date | None = None
) -> DevelopmentAction:
    rep = action.goal.plan.rep
    if actor.pk != rep.pk:
        _ensure_manages(actor, rep, "complete actions")
    action.done_on = done_on or timezone.localdate()
    _clean(action)
    return action


@transaction.atomic
def plan_evaluate(
    *, actor: User, plan: DevelopmentPlan, evaluation: str, evaluated_on: dt.date | None = None
) -> DevelopmentPlan:
    """The manager closes the plan with an evaluation of the goals."""
    _ensure_manages(actor, plan.rep, "evaluate the plan")
    _ensure_active(plan)
    if not evaluation.strip():
        raise ValidationError({"evaluation": "Write the evaluation."})
    plan.evaluation = evaluation.strip()
    plan.evaluated_on = evaluated_on or timezone.localdate()
    plan.status = DevelopmentPlan.Status.EVALUATED
    _clean(plan)
    return plan


@transaction.atomic
def skill_rate(
    *, actor: User, rep: User, skill: SkillTag, rating: int, rated_on: dt.date | None = None
) -> SkillRating:
    _ensure_manages(actor, rep, "rate skills")
    row = SkillRating(
        rep=rep,
        skill=skill,
        rating=rating,
        rated_on=rated_on or timezone.localdate(),
        rated_by=actor,
    )
    _clean(row)
    return row


# --- resource requests --------------------------------------------------------------------------


@transaction.atomic
def resource_request_create(
    *,
    actor: User,
    opportunity: Opportunity,
    kind: str,
    needed_by: dt.date | None = None,
    note: str = "",
) -> ResourceRequest:
    ensure_works_on(actor, opportunity)
    if not opportunity.is_open:
        raise ValidationError("Pre-sales help is for open opportunities.")
    pending = ResourceRequest.objects.filter(
        opportunity=opportunity, kind=kind, status=ResourceRequest.Status.PENDING
    )
    if pending.exists():
        raise ValidationError({"kind": "A request of this kind is already waiting."})
    request = ResourceRequest(
        opportunity=opportunity, kind=kind, requested_by=actor, needed_by=needed_by, note=note
    )
    _clean(request)
    webhooks.emit(WebhookEvent.RESOURCE_REQUEST_RAISED, subject=request)
    return request


@transaction.atomic
def resource_request_decide(
    *,
    actor: User,
    request: ResourceRequest,
    approve: bool,
    note: str = "",
    over_capacity: bool = False,
) -> ResourceRequest:
    """Approve only when every criterion of the kind's policy is met; a decline needs a reason.

    The criteria as they stood at the decision are kept on the request. A joint call or review
    books hours of the manager's week (coaching.capacity): past their capacity it is refused,
    unless ``over_capacity`` says so explicitly, with a reason in ``note``.
    """
    request = locks.lock_request(request.pk)
    _ensure_manages(actor, request.opportunity.owner, "decide on this request")
    if request.status != ResourceRequest.Status.PENDING:
        raise ValidationError("This request has already been decided.")
    criteria = request_criteria(requests=[request])[request.pk]
    if approve and not criteria.all_met:
        unmet = ", ".join(check.label for check in criteria.checks if not check.is_met)
        raise ValidationError(f"The request does not meet the criteria: {unmet}.")
    if not approve and not note.strip():
        raise ValidationError({"note": "Say why the request is declined."})
    if approve and request.kind in MANAGER_KINDS:
        _book_manager_time(actor, request, criteria.policy, over_capacity, note)
    request.status = ResourceRequest.Status.APPROVED if approve else ResourceRequest.Status.DECLINED
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.decision_note = note.strip()
    request.criteria_snapshot = criteria.as_snapshot()
    _clean(request)
    webhooks.emit(
        WebhookEvent.RESOURCE_REQUEST_DECIDED, subject=request, data={"status": request.status}
    )
    return request


def _book_manager_time(
    actor: User,
    request: ResourceRequest,
    policy: ResourcePolicy | None,
    over_capacity: bool,
    note: str,
) -> None:
    """Book the request's hours in its manager's week, or refuse past capacity (see above)."""
    manager_id = booking_manager(owner=request.opportunity.owner, approver=actor)
    locks.lock_manager_time(manager_id)
    hours = request_hours(kind=request.kind, policy=policy)
    week = booked_week(needed_by=request.needed_by, today=timezone.localdate())
    load = week_loads(manager_id=manager_id, first_week=week, weeks=1)[0]
    exceeds = load.would_exceed(hours)
    if exceeds and not over_capacity:
        manager = actor if manager_id == actor.pk else User.objects.get(pk=manager_id)
        raise ValidationError(
            load.refusal(manager=manager, hours=hours, what=request.get_kind_display().lower())
        )
    if exceeds and not note.strip():
        raise ValidationError({"note": "Say why the manager's week may go over capacity."})
    request.booked_manager_id = manager_id
    request.booked_week = week
    request.booked_hours = hours
    request.is_over_capacity = exceeds


@transaction.atomic
def manager_capacity_set(*, actor: User, manager: User, weekly_hours: Decimal) -> ManagerCapacity:
    """Set a manager's own weekly hours for joint calls and reviews: administrators, or anyone
    above the manager."""
    if not (administers(actor) or manages(actor, manager)):
        raise PermissionDeniedError(f"Only {manager}'s managers or an administrator can set this.")
    if manager.role != Role.MANAGER:
        raise ValidationError({"manager": "Choose a manager."})
    row = ManagerCapacity.objects.filter(manager=manager).first() or ManagerCapacity(
        manager=manager
    )
    row.weekly_hours = weekly_hours
    _clean(row)
    return row
