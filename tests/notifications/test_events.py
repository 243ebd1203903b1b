"""Events from the services reach the people they concern, through the webhooks' emit path,
once, and only people who may open what the notification links to."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import services as deal_services
from forecasting.services.calls import call_adjust
from notifications import services
from notifications.kinds import Channel, Kind
from notifications.models import EmailSend, Notification, NotificationPreference
from salesmgmt import webhooks

pytestmark = pytest.mark.django_db


def kinds_of(person) -> list[str]:
    return list(Notification.objects.filter(recipient=person).values_list("kind", flat=True))


def test_the_notifications_app_listens_to_every_emitted_event():
    assert "notifications.events.on_event" in webhooks.EVENT_LISTENERS


def test_completed_milestone_waiting_for_verification_tells_the_owners_manager(
    deal, rep_a, manager_a, manager_b, executive, complete_evidence
):
    complete_evidence()
    note = Notification.objects.get(recipient=manager_a)
    assert note.kind == Kind.MILESTONE_PENDING
    assert note.link == reverse("accounts:opportunity_detail", args=[deal.pk])
    assert "Acme renewal" in note.title
    # nobody else: not the rep who did it, not another team's manager, not the executive
    assert kinds_of(rep_a) == kinds_of(manager_b) == kinds_of(executive) == []


def test_a_milestone_without_verification_tells_nobody(
    rep_a, manager_a, process, django_capture_on_commit_callbacks
):
    from tests.factories import OpportunityFactory

    plain = OpportunityFactory(owner=rep_a, process=process)
    milestone = process.stages.order_by("order").first().milestones.order_by("order").first()
    with django_capture_on_commit_callbacks(execute=True):
        deal_services.milestone_complete(actor=rep_a, opportunity=plain, milestone=milestone)
    assert Notification.objects.count() == 0


def test_verified_and_rejected_tell_the_rep_with_the_reason(
    deal, rep_a, manager_a, complete_evidence, django_capture_on_commit_callbacks
):
    completion = complete_evidence()
    with django_capture_on_commit_callbacks(execute=True):
        deal_services.milestone_reject(actor=manager_a, completion=completion, reason="No link")
    rejected = Notification.objects.get(recipient=rep_a)
    assert rejected.kind == Kind.MILESTONE_REVIEWED
    assert "rejected" in rejected.title
    assert "No link" in rejected.body

    again = complete_evidence()
    with django_capture_on_commit_callbacks(execute=True):
        deal_services.milestone_verify(actor=manager_a, completion=again)
    titles = sorted(Notification.objects.filter(recipient=rep_a).values_list("title", flat=True))
    assert any("verified" in t for t in titles)
    assert len(titles) == 2


def test_a_rejected_rollback_notifies_nobody(deal, rep_a, manager_a):
    """No commit, no event: the listener runs after commit only."""
    milestone = deal.process.stages.order_by("order").first().milestones.get(evidence_required=True)
    deal_services.milestone_complete(
        actor=rep_a, opportunity=deal, milestone=milestone, evidence="x"
    )
    assert Notification.objects.count() == 0  # the on-commit callbacks never ran


def test_the_same_event_twice_is_stored_once(deal, manager_a, complete_evidence):
    completion = complete_evidence()
    from notifications.events import on_event

    on_event("milestone.completed", "accounts.milestonecompletion", completion.pk, {})
    on_event("milestone.completed", "accounts.milestonecompletion", completion.pk, {})
    assert Notification.objects.filter(recipient=manager_a).count() == 1


def test_a_recipient_who_may_not_see_the_record_is_not_told(
    deal, rep_a, manager_a, manager_b, complete_evidence
):
    # rep_a moves under manager_b without the path being updated: manager_b is "the manager"
    # by the foreign key but the visibility policy (the materialized path) says no.
    rep_a.manager = manager_b
    rep_a.save(update_fields=["manager"])
    complete_evidence()
    assert Notification.objects.filter(recipient=manager_b).count() == 0


def test_off_stores_nothing_and_immediate_queues_one_mail(deal, manager_a, complete_evidence):
    services.preferences_update(actor=manager_a, channels={Kind.MILESTONE_PENDING: Channel.OFF})
    complete_evidence()
    assert Notification.objects.count() == 0
    NotificationPreference.objects.all().delete()  # back to the default: immediate
    from notifications.events import on_event

    # the same event again (as a redelivery would): now the manager wants it at once
    completion = deal.milestone_completions.get()
    on_event("milestone.completed", "accounts.milestonecompletion", completion.pk, {})
    assert Notification.objects.filter(recipient=manager_a).count() == 1
    assert EmailSend.objects.filter(recipient=manager_a).count() == 1


def test_a_manager_adjusting_a_call_tells_the_rep(
    rep_a, manager_a, quarter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_adjust(
            actor=manager_a,
            person=rep_a,
            period=quarter,
            commit_amount="100",
            best_case_amount="200",
            note="Too optimistic",
            at=None,
        )
    note = Notification.objects.get(recipient=rep_a)
    assert note.kind == Kind.CALL_ADJUSTED
    assert "Too optimistic" in note.body


def test_quota_change_tells_its_owner(rep_a, manager_a, q1, django_capture_on_commit_callbacks):
    from territories.services.quotas import quota_update

    with django_capture_on_commit_callbacks(execute=True):
        quota_update(actor=manager_a, person=rep_a, period=q1, reason="New plan", amount="5000")
    note = Notification.objects.get(recipient=rep_a)
    assert note.kind == Kind.QUOTA_CHANGED
    assert note.body == "New plan"


def test_a_failing_listener_does_not_break_the_request(
    deal, manager_a, complete_evidence, monkeypatch
):
    calls = []
    monkeypatch.setattr(
        webhooks, "EVENT_LISTENERS", ["tests.notifications.test_events.broken_listener"]
    )
    monkeypatch.setattr(
        webhooks,
        "import_string",
        lambda path: lambda *args: calls.append(args) or 1 / 0,
    )
    complete_evidence()  # the service's commit and the after-commit callbacks went through
    assert len(calls) == 1
    assert calls[0][0] == "milestone.completed"


def test_an_office_between_rep_and_manager_is_passed_over(
    verified_process, manager_a, complete_evidence, deal
):
    from salesmgmt.models import Role
    from tests.factories import UserFactory

    office = UserFactory(
        username="office-west", role=Role.MANAGER, manager=manager_a, is_org_unit=True, email=""
    )
    rep = UserFactory(username="rep_west", manager=office)
    deal.owner = rep
    deal.save(update_fields=["owner"])
    complete_evidence(actor=rep)
    assert kinds_of(office) == []
    assert kinds_of(manager_a) == [Kind.MILESTONE_PENDING]
