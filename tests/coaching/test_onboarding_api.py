"""The onboarding API: programmes (read by all, written by people who lead), enrolments as
each role sees them (outside is 404), completing and certifying steps, query budgets."""

from __future__ import annotations

import pytest

from coaching.models import Enrolment, Programme, StepCompletion
from tests.coaching.factories import (
    CallDebriefFactory,
    EnrolmentFactory,
    ProgrammeFactory,
    ProgrammeStepFactory,
)
from tests.factories import UserFactory

PERSONAS = ["rep_a", "se_a", "rep_b", "manager_a", "manager_b", "executive", "admin_user"]


@pytest.fixture
def programme(admin_user):
    programme = ProgrammeFactory(name="AE onboarding", created_by=admin_user)
    ProgrammeStepFactory(programme=programme, order=1, kind="module", title="Product")
    ProgrammeStepFactory(programme=programme, order=2, kind="certification", title="Discovery")
    return programme


@pytest.fixture
def enrolments(programme, rep_a, rep_b):
    return {
        "rep_a": EnrolmentFactory(programme=programme, rep=rep_a),
        "rep_b": EnrolmentFactory(programme=programme, rep=rep_b),
    }


# Whose enrolments each persona sees: their own, their subtree's, or everyone's.
SEES = {
    "rep_a": {"rep_a"},
    "se_a": set(),
    "rep_b": {"rep_b"},
    "manager_a": {"rep_a"},
    "manager_b": {"rep_b"},
    "executive": {"rep_a", "rep_b"},
    "admin_user": {"rep_a", "rep_b"},
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_enrolments_as_each_role(request, api_client_for, enrolments, persona):
    client = api_client_for(request.getfixturevalue(persona))

    listed = client.get("/api/v1/enrolments/").json()["results"]

    by_id = {e.pk: name for name, e in enrolments.items()}
    assert {by_id[row["id"]] for row in listed} == SEES[persona]
    for name, enrolment in enrolments.items():
        response = client.get(f"/api/v1/enrolments/{enrolment.pk}/")
        assert response.status_code == (200 if name in SEES[persona] else 404)
    row = listed[0] if listed else None
    if row:
        assert row["progress"]["total"] == 2
        assert row["progress"]["done"] == 0


@pytest.mark.parametrize(
    ("persona", "status"),
    [("rep_a", 403), ("manager_a", 201), ("executive", 201), ("admin_user", 201)],
)
def test_programme_create_and_steps_as_each_role(request, api_client_for, persona, status):
    client = api_client_for(request.getfixturevalue(persona))

    response = client.post(
        "/api/v1/programmes/", {"name": "SDR basics", "sales_role": "sdr"}, format="json"
    )

    assert response.status_code == status, response.content
    if status == 201:
        pk = response.json()["id"]
        step = client.post(
            f"/api/v1/programmes/{pk}/steps/",
            {"kind": "module", "title": "Cold calling"},
            format="json",
        )
        assert step.status_code == 201, step.content
        assert [s["title"] for s in step.json()["steps"]] == ["Cold calling"]
        bad = client.post(
            f"/api/v1/programmes/{pk}/steps/", {"kind": "practice", "title": "x"}, format="json"
        )
        assert bad.status_code == 400
        assert "milestone" in str(bad.json())


def test_everyone_reads_programmes(api_client_for, rep_a, programme):
    rows = api_client_for(rep_a).get("/api/v1/programmes/").json()["results"]
    assert [row["name"] for row in rows] == ["AE onboarding"]
    assert [s["kind"] for s in rows[0]["steps"]] == ["module", "certification"]


def test_manager_enrols_a_rep_by_api(api_client_for, manager_a, rep_a, rep_b, programme):
    client = api_client_for(manager_a)

    response = client.post(
        "/api/v1/enrolments/", {"programme": programme.pk, "rep": rep_a.pk}, format="json"
    )
    outside = client.post(
        "/api/v1/enrolments/", {"programme": programme.pk, "rep": rep_b.pk}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["enrolled_by"]["id"] == manager_a.pk
    assert outside.status_code == 400  # rep_b is not someone manager_a sees
    assert Enrolment.objects.filter(rep=rep_b).count() == 0


def test_certify_a_step_with_a_debrief(api_client_for, enrolments, programme, rep_a, manager_a):
    enrolment = enrolments["rep_a"]
    certification = programme.steps.get(order=2)
    debrief = CallDebriefFactory(rep=rep_a, manager=manager_a)
    url = f"/api/v1/enrolments/{enrolment.pk}/complete-step/"

    by_rep = api_client_for(rep_a).post(url, {"step": certification.pk, "note": "me"})
    no_evidence = api_client_for(manager_a).post(url, {"step": certification.pk}, format="json")
    response = api_client_for(manager_a).post(
        url, {"step": certification.pk, "debrief": debrief.pk}, format="json"
    )

    assert by_rep.status_code == 403
    assert no_evidence.status_code == 400
    assert response.status_code == 201, response.content
    progress = response.json()["progress"]
    assert (progress["done"], progress["total"]) == (1, 2)
    assert progress["steps"][1]["debrief"] == debrief.pk
    assert StepCompletion.objects.get().completed_by == manager_a


def test_complete_step_of_another_programme_is_a_400(api_client_for, enrolments, rep_a):
    foreign = ProgrammeStepFactory()
    response = api_client_for(rep_a).post(
        f"/api/v1/enrolments/{enrolments['rep_a'].pk}/complete-step/",
        {"step": foreign.pk},
        format="json",
    )
    assert response.status_code == 400


def test_outsiders_cannot_complete_steps(api_client_for, enrolments, programme, rep_b):
    response = api_client_for(rep_b).post(
        f"/api/v1/enrolments/{enrolments['rep_a'].pk}/complete-step/",
        {"step": programme.steps.get(order=1).pk},
        format="json",
    )
    assert response.status_code == 404
    assert not StepCompletion.objects.exists()


# Each list as manager_a through a token, after a warm-up call:
#   1 the token with its user, 2 COUNT(*), 3 the page of enrolments (programme, rep, enrolled
#   by joined), 4 the programmes' steps, 5 the completions, 6 the practice milestones' records.
#   Programmes: 1 token, 2 COUNT(*), 3 the page (creator joined), 4 the steps prefetch.
ENROLMENTS_QUERIES = 6
PROGRAMMES_QUERIES = 4


@pytest.mark.parametrize("rows", [3, 30])
def test_enrolment_list_query_budget(
    api_client_for, manager_a, programme, rows, django_assert_max_num_queries
):
    for _ in range(rows):
        EnrolmentFactory(programme=programme, rep=UserFactory(manager=manager_a))
    client = api_client_for(manager_a)
    client.get("/api/v1/enrolments/")

    with django_assert_max_num_queries(ENROLMENTS_QUERIES):
        response = client.get("/api/v1/enrolments/?page_size=100&expand=rep")

    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", [3, 30])
def test_programme_list_query_budget(
    api_client_for, rep_a, admin_user, rows, django_assert_max_num_queries
):
    for _ in range(rows):
        ProgrammeStepFactory(programme=ProgrammeFactory(created_by=admin_user))
    client = api_client_for(rep_a)
    client.get("/api/v1/programmes/")

    with django_assert_max_num_queries(PROGRAMMES_QUERIES):
        response = client.get("/api/v1/programmes/?page_size=100")

    assert len(response.json()["results"]) == rows
    assert Programme.objects.count() == rows
