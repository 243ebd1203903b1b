"""Account-review notes: only whoever recorded the review and the account owner's managers
(executives, admins) rewrite them; others who see the account read them; every edit keeps
the text it replaced, with who and when, on the review page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from coaching import services
from coaching.models import ReviewNotesRevision
from salesmgmt.errors import PermissionDeniedError
from tests.coaching.factories import AccountReviewFactory
from tests.factories import OpportunityFactory

ORIGINAL = "Champion confirmed; CFO meeting next week."


@pytest.fixture
def deal_a(process, rep_a):
    return OpportunityFactory(owner=rep_a, name="Deal of rep A")


@pytest.fixture
def review_a(deal_a, rep_a, manager_a):
    review = AccountReviewFactory(account=deal_a.account, created_by=manager_a, notes=ORIGINAL)
    review.attendees.set([rep_a, manager_a])
    return review


@pytest.fixture
def other_team_sees_the_account(deal_a, rep_b):
    """rep_b works a deal on rep_a's account: rep_b and manager_b see the account and review."""
    return OpportunityFactory(owner=rep_b, account=deal_a.account, name="Side deal of rep B")


def _post_notes(client, user, review, text):
    client.force_login(user)
    return client.post(reverse("coaching:review_notes", args=[review.pk]), {"notes": text})


@pytest.mark.usefixtures("other_team_sees_the_account")
@pytest.mark.parametrize("persona", ["manager_b", "rep_b", "rep_a", "se_a"])
def test_people_who_did_not_record_it_nor_manage_the_owner_cannot_rewrite_notes(
    client, personas, review_a, persona
):
    # se_a sees nothing of the account (404); the others see it but may not edit it (403).
    response = _post_notes(client, personas[persona], review_a, "Overwritten.")

    assert response.status_code == (404 if persona == "se_a" else 403)
    review_a.refresh_from_db()
    assert review_a.notes == ORIGINAL
    assert not ReviewNotesRevision.objects.exists()


@pytest.mark.usefixtures("other_team_sees_the_account")
def test_the_edit_form_is_only_offered_to_those_who_may_edit(
    client, manager_a, manager_b, review_a
):
    url = reverse("coaching:review_detail", args=[review_a.pk])

    client.force_login(manager_b)
    as_other_manager = client.get(url)
    client.force_login(manager_a)
    as_author = client.get(url)

    notes_action = reverse("coaching:review_notes", args=[review_a.pk])
    assert as_other_manager.status_code == 200
    assert ORIGINAL in as_other_manager.text
    assert notes_action not in as_other_manager.text
    assert notes_action in as_author.text


def test_another_teams_manager_without_visibility_gets_404(client, manager_b, review_a):
    assert _post_notes(client, manager_b, review_a, "Overwritten.").status_code == 404
    review_a.refresh_from_db()
    assert review_a.notes == ORIGINAL


@pytest.mark.parametrize("persona", ["manager_a", "executive", "admin"])
def test_the_author_and_the_owners_managers_edit_and_history_keeps_the_old_text(
    client, personas, review_a, persona
):
    editor = personas[persona]

    response = _post_notes(client, editor, review_a, "Deal slipped to Q3.")

    assert response.status_code == 302
    review_a.refresh_from_db()
    assert review_a.notes == "Deal slipped to Q3."
    revision = ReviewNotesRevision.objects.get(review=review_a)
    assert (revision.previous_notes, revision.edited_by) == (ORIGINAL, editor)
    page = client.get(reverse("coaching:review_detail", args=[review_a.pk]))
    assert "Earlier notes (1)" in page.text
    assert ORIGINAL in page.text
    assert f"Replaced by {editor}" in page.text


def test_a_rep_who_recorded_the_review_may_edit_it(rep_a, deal_a):
    review = AccountReviewFactory(account=deal_a.account, created_by=rep_a, notes="v1")

    services.review_update(actor=rep_a, review=review, notes="v2")
    services.review_update(actor=rep_a, review=review, notes="v2")  # unchanged: no new revision

    assert list(review.notes_revisions.values_list("previous_notes", flat=True)) == ["v1"]


@pytest.mark.usefixtures("other_team_sees_the_account")
def test_the_service_refuses_whatever_the_interface(manager_b, review_a):
    with pytest.raises(PermissionDeniedError):
        services.review_update(actor=manager_b, review=review_a, notes="Overwritten.")


# --- action items follow the same rule (the review's record) ------------------------------


def _post_action_item(client, user, review, owner):
    client.force_login(user)
    return client.post(
        reverse("coaching:action_item_add", args=[review.pk]),
        {"description": "Call the CFO", "owner": owner.pk, "due_on": "2026-12-01"},
    )


@pytest.mark.usefixtures("other_team_sees_the_account")
@pytest.mark.parametrize("persona", ["manager_b", "rep_b"])
def test_people_who_may_not_edit_the_review_cannot_add_action_items(
    client, personas, review_a, rep_a, persona
):
    # manager_b sees the account through rep_b's side deal, as in the probe; rep_a attends.
    response = _post_action_item(client, personas[persona], review_a, rep_a)

    assert response.status_code == 403
    assert not review_a.action_items.exists()
    with pytest.raises(PermissionDeniedError):
        services.action_item_add(
            actor=personas[persona],
            review=review_a,
            description="Call the CFO",
            owner=rep_a,
            due_on=review_a.held_on,
        )


@pytest.mark.usefixtures("other_team_sees_the_account")
def test_the_action_item_form_is_only_offered_to_those_who_may_edit(
    client, manager_a, manager_b, review_a
):
    url = reverse("coaching:review_detail", args=[review_a.pk])
    action = reverse("coaching:action_item_add", args=[review_a.pk])

    client.force_login(manager_b)
    as_other_manager = client.get(url)
    client.force_login(manager_a)
    as_author = client.get(url)

    assert as_other_manager.status_code == 200
    assert action not in as_other_manager.text
    assert action in as_author.text


@pytest.mark.parametrize("persona", ["manager_a", "executive"])
def test_the_author_and_the_owners_managers_add_action_items(
    client, personas, review_a, rep_a, persona
):
    response = _post_action_item(client, personas[persona], review_a, rep_a)

    assert response.status_code == 302
    assert review_a.action_items.get().owner == rep_a
