"""Onboarding pages as each role: the onboarding page (own / subtree / all), the programme
editor (people who lead), an enrolment's page (outside is 404), certifying on the page, the
plan page showing its programme, query budgets."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from coaching.models import Programme, ProgrammeStep, StepCompletion
from coaching.selectors.onboarding import cohort_quarters
from territories.services import attainment_refresh
from tests.coaching.factories import (
    CallDebriefFactory,
    DevelopmentPlanFactory,
    EnrolmentFactory,
    ProgrammeFactory,
    ProgrammeStepFactory,
    current_quarter,
)
from tests.factories import UserFactory

PERSONAS = ["rep_a", "rep_b", "manager_a", "manager_b", "executive", "admin_user"]


@pytest.fixture
def programme(admin_user):
    programme = ProgrammeFactory(name="AE onboarding", created_by=admin_user)
    ProgrammeStepFactory(programme=programme, order=1, kind="module", title="Product tour")
    ProgrammeStepFactory(
        programme=programme, order=2, kind="certification", title="Runs a discovery call alone"
    )
    return programme


@pytest.fixture
def enrolments(programme, rep_a, rep_b):
    return {
        "rep_a": EnrolmentFactory(programme=programme, rep=rep_a),
        "rep_b": EnrolmentFactory(programme=programme, rep=rep_b),
    }


SEES = {
    "rep_a": {"rep_a"},
    "rep_b": {"rep_b"},
    "manager_a": {"rep_a"},
    "manager_b": {"rep_b"},
    "executive": {"rep_a", "rep_b"},
    "admin_user": {"rep_a", "rep_b"},
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_onboarding_page_as_each_role(request, client, enrolments, persona):
    user = request.getfixturevalue(persona)
    client.force_login(user)

    response = client.get(reverse("coaching:onboarding"))

    assert response.status_code == 200
    shown = {row.enrolment.rep.username for row in response.context["view"].rows}
    assert shown == SEES[persona]
    # Cohorts and the programme's effect are for people who lead.
    assert ("Cohorts by hire quarter" in response.content.decode()) == (
        persona not in ("rep_a", "rep_b")
    )
    for name, enrolment in enrolments.items():
        detail = client.get(reverse("coaching:enrolment_detail", args=[enrolment.pk]))
        assert detail.status_code == (200 if name in SEES[persona] else 404)


@pytest.mark.parametrize("persona", PERSONAS)
def test_programme_pages_are_for_people_who_lead(request, client, programme, persona):
    client.force_login(request.getfixturevalue(persona))
    expected = 403 if persona in ("rep_a", "rep_b") else 200

    assert client.get(reverse("coaching:programme_list")).status_code == expected
    detail = client.get(reverse("coaching:programme_detail", args=[programme.pk]))
    assert detail.status_code == expected


def test_manager_creates_a_programme_and_adds_steps_on_the_page(client, manager_a, process):
    client.force_login(manager_a)

    response = client.post(
        reverse("coaching:programme_list"),
        {"name": "SDR basics", "sales_role": "sdr", "is_default": "on"},
    )
    programme = Programme.objects.get(name="SDR basics")
    assert response.status_code == 302
    assert programme.is_default

    bad = client.post(
        reverse("coaching:programme_step_add", args=[programme.pk]),
        {"kind": "practice", "title": "Qualify a deal", "due_after_days": 30},
    )
    assert bad.status_code == 400  # a practice step names its milestone
    milestone = process.stages.first().milestones.first()
    client.post(
        reverse("coaching:programme_step_add", args=[programme.pk]),
        {"kind": "practice", "title": "Qualify a deal", "due_after_days": 30,
         "milestone": milestone.pk},
    )  # fmt: skip
    assert ProgrammeStep.objects.get(programme=programme).milestone == milestone


def test_manager_enrols_and_certifies_on_the_page(client, programme, rep_a, manager_a):
    client.force_login(manager_a)
    response = client.post(
        reverse("coaching:programme_enrol", args=[programme.pk]), {"rep": rep_a.pk}
    )
    enrolment = rep_a.enrolments.get()
    assert response.status_code == 302
    debrief = CallDebriefFactory(rep=rep_a, manager=manager_a)
    certification = programme.steps.get(order=2)
    url = reverse("coaching:enrolment_step_complete", args=[enrolment.pk])

    refused = client.post(url, {"step": certification.pk})
    done = client.post(url, {"step": certification.pk, "debrief": debrief.pk})

    assert refused.status_code == 400
    assert done.status_code == 302
    assert StepCompletion.objects.get().debrief == debrief
    page = client.get(reverse("coaching:enrolment_detail", args=[enrolment.pk]))
    assert "1 of 2 steps done" in page.content.decode()


def test_rep_marks_a_module_but_cannot_certify(client, enrolments, programme, rep_a):
    client.force_login(rep_a)
    url = reverse("coaching:enrolment_step_complete", args=[enrolments["rep_a"].pk])

    client.post(url, {"step": programme.steps.get(order=1).pk})
    refused = client.post(url, {"step": programme.steps.get(order=2).pk, "note": "Me"})

    assert refused.status_code == 403
    assert StepCompletion.objects.count() == 1


def test_plan_page_shows_the_programme_it_follows(client, enrolments, rep_a, manager_a):
    plan = DevelopmentPlanFactory(rep=rep_a, created_by=manager_a)
    client.force_login(manager_a)

    client.post(
        reverse("coaching:plan_link_programme", args=[plan.pk]),
        {"enrolment": enrolments["rep_a"].pk},
    )
    outside = client.post(
        reverse("coaching:plan_link_programme", args=[plan.pk]),
        {"enrolment": enrolments["rep_b"].pk},
    )
    page = client.get(reverse("coaching:plan_detail", args=[plan.pk])).content.decode()

    plan.refresh_from_db()
    assert plan.enrolment == enrolments["rep_a"]
    assert outside.status_code == 302  # refused with a message; the link stays
    assert "0 of 2 steps done" in page
    assert "Runs a discovery call alone" in page


# The onboarding page as a manager, whatever the number of new hires (13 measured):
#   1 session, 2 user, 3 enrolments (programme, rep joined), 4 their programmes' steps,
#   5 completions, 6 quarters, 7 hires, 8 their won deals, 9 the stored attainment of the
#   last 8 quarters (one read), 10 programmes, 11 enrolled reps, 12 roles, 13 the navigation's
#   read; 14 the practice milestones' records when a programme has practice steps.
ONBOARDING_QUERIES = 14


@pytest.mark.parametrize("size", [2, 12])
def test_onboarding_page_query_budget(
    client, manager_a, programme, size, django_assert_max_num_queries
):
    current_quarter()
    for quarter in cohort_quarters(today=timezone.localdate()):
        attainment_refresh(period=quarter)  # as the worker keeps it
    for i in range(size):
        rep = UserFactory(manager=manager_a, hire_date=timezone.localdate() - dt.timedelta(days=i))
        EnrolmentFactory(programme=programme, rep=rep)
    client.force_login(manager_a)
    client.get(reverse("coaching:onboarding"))

    with django_assert_max_num_queries(ONBOARDING_QUERIES):
        response = client.get(reverse("coaching:onboarding"))

    assert len(response.context["view"].rows) == size
