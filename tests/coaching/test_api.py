"""The coaching API: visibility per persona (outside is 404), writes through the services."""

from __future__ import annotations

import pytest

from coaching import services
from coaching.models import ResourceRequest
from tests.coaching.factories import AccountReviewFactory, CallDebriefFactory
from tests.factories import OpportunityFactory

BASE = "/api/v1"


@pytest.fixture
def deal_a(process, rep_a):
    return OpportunityFactory(owner=rep_a, name="API deal")


def ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


def test_lists_follow_visibility(api_client_for, deal_a, rep_a, rep_b, manager_a, executive):
    review = AccountReviewFactory(account=deal_a.account)
    debrief = CallDebriefFactory(rep=rep_a)
    request = services.resource_request_create(actor=rep_a, opportunity=deal_a, kind="se_time")

    for viewer, visible in ((rep_a, True), (manager_a, True), (executive, True), (rep_b, False)):
        client = api_client_for(viewer)
        for path, pk in (
            ("account-reviews", review.pk),
            ("debriefs", debrief.pk),
            ("resource-requests", request.pk),
        ):
            assert (pk in ids(client.get(f"{BASE}/{path}/"))) is visible, (viewer, path)
            status = client.get(f"{BASE}/{path}/{pk}/").status_code
            assert status == (200 if visible else 404), (viewer, path)


def test_manager_creates_a_debrief_and_a_rep_cannot(api_client_for, rep_a, se_a, manager_a):
    body = {"rep": rep_a.pk, "held_on": "2026-11-20", "went_well": "Agenda", "to_improve": "Pace",
            "skills": ["Listening"]}  # fmt: skip

    created = api_client_for(manager_a).post(f"{BASE}/debriefs/", body, format="json")
    refused = api_client_for(se_a).post(f"{BASE}/debriefs/", body, format="json")

    assert created.status_code == 201, created.json()
    assert created.json()["skills"] == ["Listening"]
    assert refused.status_code in (400, 403)


def test_review_create_for_an_invisible_account_is_refused(api_client_for, deal_a, rep_b):
    response = api_client_for(rep_b).post(
        f"{BASE}/account-reviews/",
        {"account": deal_a.account_id, "held_on": "2026-11-23"},
        format="json",
    )

    assert response.status_code == 400
    assert "account" in response.json()["fields"]


def test_resource_request_decide_checks_the_criteria(api_client_for, deal_a, rep_a, manager_a):
    created = api_client_for(rep_a).post(
        f"{BASE}/resource-requests/",
        {"opportunity": deal_a.pk, "resource_kind": "poc"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    url = f"{BASE}/resource-requests/{created.json()['id']}/decide/"

    # A 10,000 deal misses the POC policy's 50,000: approval is refused with the reason
    refused = api_client_for(manager_a).post(url, {"approve": True}, format="json")
    assert refused.status_code == 400
    assert "Deal size" in str(refused.json())
    assert api_client_for(rep_a).post(url, {"approve": False, "note": "x"}).status_code == 403

    declined = api_client_for(manager_a).post(
        url, {"approve": False, "note": "Too small for a POC"}, format="json"
    )
    assert declined.status_code == 200
    assert declined.json()["status"] == ResourceRequest.Status.DECLINED


def test_plans_are_created_by_managers(api_client_for, rep_a, manager_a, rep_b):
    body = {"rep": rep_a.pk, "title": "Negotiation", "assessed_needs": "Discounts too early"}

    assert api_client_for(manager_a).post(f"{BASE}/development-plans/", body).status_code == 201
    listed = api_client_for(rep_b).get(f"{BASE}/development-plans/")
    assert listed.json()["results"] == []
