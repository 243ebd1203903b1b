"""The demo's onboarding programme: the default for new reps, with the reps hired since its
launch enrolled (as hiring would have done), so the onboarding pages show progress, cohorts
and the programme's effect from the first ``make run`` (a few rows: fast)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts.models import Milestone
from accounts.selectors import default_process
from coaching import services
from coaching.models import Enrolment, Programme, ProgrammeStep
from salesmgmt.models import Role

from .org import demo_users

DEMO_PROGRAMME = "New rep onboarding"
# Launched this many days ago: reps hired since are enrolled, earlier hires are "before".
LAUNCHED_DAYS_AGO = 200
MODULES = [
    ("Product and pricing tour", "The catalogue, list prices and discount rules.", 7),
    ("The sales process and its milestones", "Each stage's exit criteria, in the CRM.", 14),
]
CERTIFICATION = (
    "Runs a discovery call alone",
    "The manager joins a discovery call and certifies it with the call's debrief.",
    45,
)


def _practice_milestone() -> Milestone | None:
    """The first exit milestone of the default process's second stage (discovery)."""
    process = default_process()
    if process is None:
        return None
    return (
        Milestone.objects.filter(stage__process=process)
        .order_by("stage__order", "order", "id")
        .filter(stage__order__gte=2)
        .first()
    )


def load_demo_programme() -> bool:
    """Create the demo's default programme and its enrolments unless it exists; True when
    created."""
    if Programme.objects.filter(name=DEMO_PROGRAMME).exists():
        return False
    people = demo_users()
    author = people.filter(role=Role.ADMIN).order_by("pk").first()
    if author is None:
        return False
    today = timezone.localdate()
    programme = services.programme_create(
        actor=author,
        name=DEMO_PROGRAMME,
        description="The first 90 days of a new sales rep: learn, get certified, practise.",
        is_default=True,
        launched_on=today - dt.timedelta(days=LAUNCHED_DAYS_AGO),
    )
    for title, description, due in MODULES:
        services.step_add(
            actor=author,
            programme=programme,
            kind=ProgrammeStep.Kind.MODULE,
            title=title,
            description=description,
            due_after_days=due,
        )
    title, description, due = CERTIFICATION
    services.step_add(
        actor=author,
        programme=programme,
        kind=ProgrammeStep.Kind.CERTIFICATION,
        title=title,
        description=description,
        due_after_days=due,
    )
    milestone = _practice_milestone()
    if milestone is not None:
        services.step_add(
            actor=author,
            programme=programme,
            kind=ProgrammeStep.Kind.PRACTICE,
            title=f"Completes “{milestone.name}” on a real deal",
            due_after_days=60,
            milestone=milestone,
        )
    reps = people.filter(role=Role.REP, is_active=True).select_related("manager")
    for rep in reps.filter(hire_date__gte=programme.launched_on).order_by("hire_date", "pk"):
        services.enrolment_for_new_hire(rep=rep)
    _enrol_for_the_manager_login(programme)
    _first_module_done(programme)
    return True


def _enrol_for_the_manager_login(programme: Programme) -> None:
    """The manager login sees a new hire: their latest hire is enrolled by hand if nobody
    of their team joined since the launch."""
    manager = demo_users().filter(username="manager").first()
    if manager is None or Enrolment.objects.filter(rep__manager=manager).exists():
        return
    latest = (
        demo_users()
        .filter(manager=manager, role=Role.REP, is_active=True)
        .order_by("-hire_date", "-pk")
        .first()
    )
    if latest is not None:
        services.enrolment_create(
            actor=manager,
            programme=programme,
            rep=latest,
            started_on=timezone.localdate() - dt.timedelta(days=20),
        )


def _first_module_done(programme: Programme) -> None:
    """Each enrolled rep has done the first module, a few days after starting."""
    first = programme.steps.order_by("order").first()
    if first is None:
        return
    for enrolment in Enrolment.objects.filter(programme=programme).select_related("rep"):
        services.step_complete(
            actor=enrolment.rep,
            enrolment=enrolment,
            step=first,
            completed_on=min(enrolment.started_on + dt.timedelta(days=5), timezone.localdate()),
        )
