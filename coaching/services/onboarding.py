"""Writes for onboarding programmes: the curriculum, enrolments, steps done and certified."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Milestone
from salesmgmt.errors import PermissionDeniedError
from salesmgmt.models import Role, User
from salesmgmt.visibility import leads_people, manages

from .. import locks
from ..models import (
    CallDebrief,
    DevelopmentPlan,
    Enrolment,
    Programme,
    ProgrammeStep,
    StepCompletion,
)

PROGRAMME_FIELDS = {"name", "description", "sales_role", "is_default", "launched_on"}


def may_edit_programmes(user: User) -> bool:
    """Managers, executives and administrators write the curriculum; reps follow it."""
    return user.is_active and not user.is_integrator and leads_people(user)


def _ensure_may_edit(actor: User) -> None:
    if not may_edit_programmes(actor):
        raise PermissionDeniedError("Only managers and administrators edit programmes.")


def _save(instance) -> None:
    instance.full_clean()
    instance.save()


@transaction.atomic
def programme_create(
    *,
    actor: User,
    name: str,
    description: str = "",
    sales_role: str = "",
    is_default: bool = False,
    launched_on: dt.date | None = None,
) -> Programme:
    _ensure_may_edit(actor)
    programme = Programme(
        name=name.strip(),
        description=description.strip(),
        sales_role=sales_role,
        is_default=is_default,
        launched_on=launched_on or timezone.localdate(),
        created_by=actor,
    )
    _save(programme)
    return programme


@transaction.atomic
def programme_update(*, actor: User, programme: Programme, **changes: object) -> Programme:
    _ensure_may_edit(actor)
    unknown = set(changes) - PROGRAMME_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    for name, value in changes.items():
        setattr(programme, name, value.strip() if isinstance(value, str) else value)
    _save(programme)
    return programme


@transaction.atomic
def step_add(
    *,
    actor: User,
    programme: Programme,
    kind: str,
    title: str,
    description: str = "",
    due_after_days: int = 30,
    milestone: Milestone | None = None,
) -> ProgrammeStep:
    """A step at the end of the curriculum."""
    _ensure_may_edit(actor)
    locks.lock_programme(programme.pk)
    last = ProgrammeStep.objects.filter(programme=programme).aggregate(last=Max("order"))["last"]
    if kind == ProgrammeStep.Kind.PRACTICE and milestone is None:
        raise ValidationError({"milestone": "Choose the milestone the rep completes on a deal."})
    if kind != ProgrammeStep.Kind.PRACTICE:
        milestone = None
    step = ProgrammeStep(
        programme=programme,
        order=(last or 0) + 1,
        kind=kind,
        title=title.strip(),
        description=description.strip(),
        due_after_days=due_after_days,
        milestone=milestone,
    )
    _save(step)
    return step


@transaction.atomic
def step_remove(*, actor: User, step: ProgrammeStep) -> None:
    """Take a step out of the curriculum while nobody has done it yet."""
    _ensure_may_edit(actor)
    if StepCompletion.objects.filter(step=step).exists():
        raise ValidationError("Someone has done this step already; it stays in the record.")
    step.delete()


# --- enrolments ---------------------------------------------------------------------------------


def _ensure_enrollable(rep: User) -> None:
    if not rep.is_active or rep.is_org_unit or rep.role != Role.REP:
        raise ValidationError({"rep": "Only active sales reps are enrolled in programmes."})


@transaction.atomic
def enrolment_create(
    *, actor: User, programme: Programme, rep: User, started_on: dt.date | None = None
) -> Enrolment:
    """A manager (or an administrator) enrols one of their reps by hand."""
    if not manages(actor, rep):
        raise PermissionDeniedError(f"Only {rep}'s manager can enrol them.")
    _ensure_enrollable(rep)
    enrolment = Enrolment(
        programme=programme,
        rep=rep,
        started_on=started_on or timezone.localdate(),
        enrolled_by=actor,
    )
    _save(enrolment)
    return enrolment


def default_programme_for(rep: User) -> Programme | None:
    """The default programme of the rep's sales role, else the default for any role (1 query)."""
    candidates = Programme.objects.filter(is_default=True, sales_role__in=[rep.sales_role, ""])
    # The role's own default wins over the any-role one ("" sorts first, so descending).
    return candidates.order_by("-sales_role").first()


@transaction.atomic
def enrolment_for_new_hire(*, rep: User) -> Enrolment | None:
    """Enrol a new rep in their role's default programme from their start date (idempotent)."""
    if not rep.is_active or rep.is_org_unit or rep.role != Role.REP:
        return None
    programme = default_programme_for(rep)
    if programme is None:
        return None
    existing = Enrolment.objects.filter(programme=programme, rep=rep).first()
    if existing is not None:
        return existing
    enrolment = Enrolment(
        programme=programme, rep=rep, started_on=rep.hire_date or timezone.localdate()
    )
    _save(enrolment)
    return enrolment


@transaction.atomic
def step_complete(
    *,
    actor: User,
    enrolment: Enrolment,
    step: ProgrammeStep,
    debrief: CallDebrief | None = None,
    note: str = "",
    completed_on: dt.date | None = None,
) -> StepCompletion:
    """Mark a module done (the rep or their manager) or certify a step (their manager, with
    evidence: a debrief of the rep's call or a note). Practice steps are done on deals."""
    rep = enrolment.rep
    if step.programme_id != enrolment.programme_id:
        raise ValidationError({"step": "This step is not part of the rep's programme."})
    if step.kind == ProgrammeStep.Kind.PRACTICE:
        raise ValidationError(
            {"step": "A practice step is done by completing its milestone on a real deal."}
        )
    if step.kind == ProgrammeStep.Kind.CERTIFICATION:
        if not manages(actor, rep):
            raise PermissionDeniedError(f"Only {rep}'s manager can certify this step.")
        if debrief is None and not note.strip():
            raise ValidationError(
                {"note": "Give the evidence: a debrief of the call, a note, or both."}
            )
        if debrief is not None and debrief.rep_id != rep.pk:
            raise ValidationError({"debrief": f"Choose a debrief of {rep}'s calls."})
    elif actor.pk != rep.pk and not manages(actor, rep):
        raise PermissionDeniedError("Only the rep or their manager can mark this step done.")
    if StepCompletion.objects.filter(enrolment=enrolment, step=step).exists():
        raise ValidationError({"step": "This step is already done."})
    completion = StepCompletion(
        enrolment=enrolment,
        step=step,
        completed_on=completed_on or timezone.localdate(),
        completed_by=actor,
        debrief=debrief,
        note=note.strip(),
    )
    _save(completion)
    return completion


@transaction.atomic
def plan_link_enrolment(
    *, actor: User, plan: DevelopmentPlan, enrolment: Enrolment | None
) -> DevelopmentPlan:
    """The plan follows the rep's programme (its page shows the progress); None unlinks."""
    if not manages(actor, plan.rep):
        raise PermissionDeniedError(f"Only {plan.rep}'s manager can change the plan.")
    if enrolment is not None and enrolment.rep_id != plan.rep_id:
        raise ValidationError({"enrolment": f"Choose one of {plan.rep}'s programmes."})
    plan.enrolment = enrolment
    _save(plan)
    return plan
