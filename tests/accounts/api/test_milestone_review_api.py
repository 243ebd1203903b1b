"""Verifying and rejecting milestone evidence through the API, as the deal page does it:
the same service, the same visibility (404) and role (403) checks; and 304 on a GET whose
``If-None-Match`` names the record's ETag."""

from __future__ import annotations

import pytest

from accounts import services
from accounts.models import MilestoneCompletion
from tests.accounts.conftest import open_deal
from tests.factories import build_process


def _milestone(deal, name):
    return deal.process.stages.get(milestones__name=name).milestones.get(name=name)


@pytest.fixture
def pending(rep_a, account_a):
    """A completion on rep_a's deal waiting for their manager's verification."""
    process = build_process(name="Verified", requires_verification=True)
    deal = open_deal(rep_a, account_a, "Verified deal", process=process)
    return services.milestone_complete(
        actor=rep_a, opportunity=deal, milestone=_milestone(deal, "Qualify #1"), evidence="Notes"
    )


def _url(completion, action: str) -> str:
    return f"/api/v1/milestone-completions/{completion.pk}/{action}/"


def test_manager_verifies_a_pending_completion(api_client_for, manager_a, pending):
    response = api_client_for(manager_a).post(_url(pending, "verify"), format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["verification_state"], body["verified_by"]["id"]) == ("verified", manager_a.pk)
    assert response["ETag"]
    pending.refresh_from_db()
    assert pending.verification_state == MilestoneCompletion.Verification.VERIFIED


def test_manager_rejects_only_with_a_reason(api_client_for, manager_a, pending):
    client = api_client_for(manager_a)

    missing = client.post(_url(pending, "reject"), {}, format="json")
    blank = client.post(_url(pending, "reject"), {"reason": "   "}, format="json")
    pending.refresh_from_db()
    assert (missing.status_code, blank.status_code) == (400, 400)
    assert missing.json()["fields"]["reason"] == ["Say what is wrong with the evidence."]
    assert blank.json()["fields"]["reason"] == ["Say what is wrong with the evidence."]
    assert pending.verification_state == MilestoneCompletion.Verification.PENDING

    accepted = client.post(_url(pending, "reject"), {"reason": "No signature"}, format="json")

    assert accepted.status_code == 200
    assert (accepted.json()["verification_state"], accepted.json()["rejection_reason"]) == (
        "rejected",
        "No signature",
    )


def test_rep_cannot_verify_their_own_completion(api_client_for, rep_a, pending):
    response = api_client_for(rep_a).post(_url(pending, "verify"), format="json")

    assert response.status_code == 403
    assert "Only the owner's manager can verify" in response.json()["detail"]
    pending.refresh_from_db()
    assert pending.verification_state == MilestoneCompletion.Verification.PENDING


def test_other_teams_manager_gets_404(api_client_for, manager_b, pending):
    client = api_client_for(manager_b)

    assert client.post(_url(pending, "verify"), format="json").status_code == 404
    # Visibility before the body: a bad body on an invisible completion is still a 404.
    assert client.post(_url(pending, "reject"), {}, format="json").status_code == 404
    pending.refresh_from_db()
    assert pending.verification_state == MilestoneCompletion.Verification.PENDING


def test_a_reviewed_completion_cannot_be_reviewed_again(api_client_for, manager_a, pending):
    client = api_client_for(manager_a)
    client.post(_url(pending, "verify"), format="json")

    again = client.post(_url(pending, "reject"), {"reason": "Changed my mind"}, format="json")

    assert again.status_code == 400
    assert "not waiting for verification" in str(again.json())


def test_stale_if_match_is_412(api_client_for, manager_a, pending):
    response = api_client_for(manager_a).post(
        _url(pending, "verify"), format="json", HTTP_IF_MATCH='"1"'
    )

    assert response.status_code == 412
    pending.refresh_from_db()
    assert pending.verification_state == MilestoneCompletion.Verification.PENDING


def test_read_only_token_cannot_verify(api_client_for, manager_a, pending):
    response = api_client_for(manager_a, scope="read").post(_url(pending, "verify"), format="json")

    assert response.status_code == 403


# --- If-None-Match -----------------------------------------------------------------------------


def test_get_with_the_current_etag_is_304(api_client_for, rep_a, account_a, process):
    deal = open_deal(rep_a, account_a, "Cached deal")
    client = api_client_for(rep_a)
    first = client.get(f"/api/v1/opportunities/{deal.pk}/")
    etag = first["ETag"]

    cached = client.get(f"/api/v1/opportunities/{deal.pk}/", HTTP_IF_NONE_MATCH=etag)
    weak = client.get(f"/api/v1/opportunities/{deal.pk}/", HTTP_IF_NONE_MATCH=f"W/{etag}")
    other = client.get(f"/api/v1/opportunities/{deal.pk}/", HTTP_IF_NONE_MATCH='"999"')

    assert (cached.status_code, cached["ETag"], cached.content) == (304, etag, b"")
    assert weak.status_code == 304
    assert other.status_code == 200
    assert other.json()["id"] == deal.pk


def test_a_changed_record_is_sent_again(api_client_for, rep_a, account_a, process):
    deal = open_deal(rep_a, account_a, "Changing deal")
    client = api_client_for(rep_a)
    etag = client.get(f"/api/v1/opportunities/{deal.pk}/")["ETag"]
    client.patch(f"/api/v1/opportunities/{deal.pk}/", {"next_step": "Call"}, format="json")

    response = client.get(f"/api/v1/opportunities/{deal.pk}/", HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    assert response["ETag"] != etag


def test_if_none_match_on_an_invisible_record_is_still_404(api_client_for, rep_b, pending):
    response = api_client_for(rep_b).get(
        f"/api/v1/milestone-completions/{pending.pk}/", HTTP_IF_NONE_MATCH="*"
    )

    assert response.status_code == 404


@pytest.mark.parametrize(("role", "status"), [("executive", 200), ("integrator", 403)])
def test_above_the_owner_verifies_an_integration_does_not(
    api_client_for, personas, pending, role, status
):
    response = api_client_for(personas[role]).post(_url(pending, "verify"), format="json")

    assert response.status_code == status
    pending.refresh_from_db()
    assert (pending.verification_state == "verified") == (status == 200)
