"""Onboarding programmes: who writes the curriculum, enrolment (automatic and by hand),
completing and certifying steps, practice read from real deals, plans following a programme."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Milestone, MilestoneCompletion
from coaching import selectors, services
from coaching.models import Enrolment, ProgrammeStep
from salesmgmt import services as org_services
from salesmgmt.errors import PermissionDeniedError
from salesmgmt.models import Role
from territories.models import Quota
from tests.coaching.factories import (
    CallDebriefFactory,
    DevelopmentPlanFactory,
    EnrolmentFactory,
    ProgrammeFactory,
    ProgrammeStepFactory,
    current_quarter,
)
from tests.factories import MilestoneCompletionFactory, OpportunityFactory
from tests.territories.factories import QuotaFactory


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [("rep_a", False), ("manager_a", True), ("executive", True), ("admin_user", True)],
)
def test_programmes_are_written_by_people_who_lead(request, persona, allowed):
    actor = request.getfixturevalue(persona)
    if allowed:
        programme = services.programme_create(actor=actor, name=f"By {persona}")
        assert programme.created_by == actor
    else:
        with pytest.raises(PermissionDeniedError):
            services.programme_create(actor=actor, name="Nope")


def test_steps_are_added_in_order_and_practice_needs_a_milestone(manager_a, process):
    programme = services.programme_create(actor=manager_a, name="AE onboarding")
    milestone = Milestone.objects.filter(stage__process=process).first()

    first = services.step_add(actor=manager_a, programme=programme, kind="module", title="CRM")
    second = services.step_add(
        actor=manager_a, programme=programme, kind="practice", title="Qualify", milestone=milestone
    )
    with pytest.raises(ValidationError):
        services.step_add(actor=manager_a, programme=programme, kind="practice", title="x")

    assert (first.order, second.order) == (1, 2)


def test_one_default_programme_per_role(manager_a):
    services.programme_create(actor=manager_a, name="AE", sales_role="ae", is_default=True)
    with pytest.raises(ValidationError):
        services.programme_create(actor=manager_a, name="AE 2", sales_role="ae", is_default=True)


def test_a_new_hire_is_enrolled_in_their_roles_default_programme(
    admin_user, manager_a, django_capture_on_commit_callbacks
):
    services.programme_create(actor=admin_user, name="Anyone", is_default=True)
    ae = services.programme_create(
        actor=admin_user, name="AE onboarding", sales_role="ae", is_default=True
    )

    with django_capture_on_commit_callbacks(execute=True):
        hire = org_services.user_create(
            username="new.ae", manager=manager_a, sales_role="ae", hire_date=dt.date(2026, 2, 2)
        )
        sdr = org_services.user_create(username="new.sdr", manager=manager_a, sales_role="sdr")
        # Managers are not enrolled (programmes are for reps).
        org_services.user_create(
            username="boss", role=Role.MANAGER, actor=admin_user, in_session=True
        )

    enrolment = Enrolment.objects.get(rep=hire)
    assert enrolment.programme == ae
    assert enrolment.started_on == dt.date(2026, 2, 2)  # their start date
    assert enrolment.is_automatic
    assert Enrolment.objects.get(rep=sdr).programme.name == "Anyone"
    assert Enrolment.objects.count() == 2


def test_no_default_programme_no_enrolment(manager_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        org_services.user_create(username="new", manager=manager_a)
    assert not Enrolment.objects.exists()


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [
        ("rep_a", False),
        ("rep_b", False),
        ("manager_a", True),
        ("manager_b", False),
        ("executive", True),
        ("admin_user", True),
    ],
)
def test_only_a_reps_managers_enrol_them(request, rep_a, persona, allowed):
    programme = ProgrammeFactory()
    actor = request.getfixturevalue(persona)
    if allowed:
        enrolment = services.enrolment_create(actor=actor, programme=programme, rep=rep_a)
        assert enrolment.enrolled_by == actor
    else:
        with pytest.raises(PermissionDeniedError):
            services.enrolment_create(actor=actor, programme=programme, rep=rep_a)


@pytest.fixture
def enrolment(rep_a):
    programme = ProgrammeFactory()
    ProgrammeStepFactory(programme=programme, order=1, kind="module", title="Product basics")
    ProgrammeStepFactory(
        programme=programme, order=2, kind="certification", title="Runs a discovery call alone"
    )
    return EnrolmentFactory(programme=programme, rep=rep_a)


def steps_of(enrolment):
    return {s.order: s for s in ProgrammeStep.objects.filter(programme=enrolment.programme)}


def test_the_rep_marks_a_module_done(enrolment, rep_a, rep_b):
    module = steps_of(enrolment)[1]
    with pytest.raises(PermissionDeniedError):
        services.step_complete(actor=rep_b, enrolment=enrolment, step=module)

    services.step_complete(actor=rep_a, enrolment=enrolment, step=module)

    progress = selectors.enrolment_progress(enrolments=[enrolment])[enrolment.pk]
    assert (progress.done, progress.total) == (1, 2)
    with pytest.raises(ValidationError):
        services.step_complete(actor=rep_a, enrolment=enrolment, step=module)


def test_the_manager_certifies_with_a_debrief_as_evidence(enrolment, rep_a, manager_a, rep_b):
    certification = steps_of(enrolment)[2]
    debrief = CallDebriefFactory(rep=rep_a, manager=manager_a)
    others = CallDebriefFactory(rep=rep_b)

    with pytest.raises(PermissionDeniedError):  # the rep cannot certify themselves
        services.step_complete(actor=rep_a, enrolment=enrolment, step=certification, note="ok")
    with pytest.raises(ValidationError):  # evidence is required
        services.step_complete(actor=manager_a, enrolment=enrolment, step=certification)
    with pytest.raises(ValidationError):  # another rep's debrief is no evidence
        services.step_complete(
            actor=manager_a, enrolment=enrolment, step=certification, debrief=others
        )

    done = services.step_complete(
        actor=manager_a, enrolment=enrolment, step=certification, debrief=debrief
    )

    assert (done.completed_by, done.debrief) == (manager_a, debrief)
    progress = selectors.enrolment_progress(enrolments=[enrolment])[enrolment.pk]
    assert progress.states[1].completion.debrief == debrief


def test_practice_is_read_from_the_reps_own_milestone_completions(rep_a, rep_b, manager_a, process):
    milestone = Milestone.objects.filter(stage__process=process).order_by("pk").first()
    programme = ProgrammeFactory()
    practice = ProgrammeStepFactory(
        programme=programme, order=1, kind="practice", title="Qualify", milestone=milestone
    )
    enrolment = EnrolmentFactory(programme=programme, rep=rep_a, started_on=dt.date(2026, 1, 1))
    theirs = OpportunityFactory(owner=rep_a, process=process)
    # Someone else's deal does not count; the rep's own does (latest record counts).
    MilestoneCompletionFactory(opportunity=OpportunityFactory(owner=rep_b), milestone=milestone)

    progress = selectors.enrolment_progress(enrolments=[enrolment])[enrolment.pk]
    assert progress.done == 0

    MilestoneCompletionFactory(opportunity=theirs, milestone=milestone)
    progress = selectors.enrolment_progress(enrolments=[enrolment])[enrolment.pk]
    assert progress.done == 1
    assert progress.states[0].deal_id == theirs.pk

    MilestoneCompletionFactory(
        opportunity=theirs, milestone=milestone, action=MilestoneCompletion.Action.UNDO
    )
    progress = selectors.enrolment_progress(enrolments=[enrolment])[enrolment.pk]
    assert progress.done == 0  # undone on the deal: not done in the programme either
    with pytest.raises(ValidationError):
        services.step_complete(actor=manager_a, enrolment=enrolment, step=practice)


def test_a_plan_follows_a_programme_enrolment(enrolment, rep_a, rep_b, manager_a):
    plan = services.plan_create(
        actor=manager_a, rep=rep_a, title="Ramp", assessed_needs="New", enrolment=enrolment
    )
    assert plan.enrolment == enrolment
    other = DevelopmentPlanFactory(rep=rep_b)
    with pytest.raises(ValidationError):
        services.plan_create(
            actor=manager_a, rep=rep_a, title="x", assessed_needs="y", enrolment=EnrolmentFactory()
        )
    with pytest.raises(PermissionDeniedError):
        services.plan_link_enrolment(actor=manager_a, plan=other, enrolment=enrolment)
    unlinked = services.plan_link_enrolment(actor=manager_a, plan=plan, enrolment=None)
    assert unlinked.enrolment is None


def test_ramp_figures_from_deals_and_attainment(manager_a, rep_a):
    """A hire on Jan 10 of this year's first quarter: first deal won Feb 9 (30 days); quota
    (1,000, explicit) reached in Q1 with a 1,000 deal: to Mar 31 = 21 + 28/29 + 31 days."""
    today = timezone.localdate()
    year = today.year
    q1 = current_quarter(dt.date(year, 1, 15))
    rep_a.hire_date = dt.date(year, 1, 10)
    rep_a.save()
    QuotaFactory(user=rep_a, period=q1, basis=Quota.Basis.EXPLICIT, amount=Decimal(1000))
    OpportunityFactory(
        owner=rep_a, amount=Decimal(1000), status="won", closed_on=dt.date(year, 2, 9)
    )

    ramp = selectors.ramp_figures(today=max(today, dt.date(year, 4, 1)))

    row = ramp.figures.loc[rep_a.pk]
    assert row["days_to_first_deal"] == 30
    assert row["days_to_quota"] == (dt.date(year, 3, 31) - dt.date(year, 1, 10)).days
    assert row["cohort"] == f"{year} Q1"
