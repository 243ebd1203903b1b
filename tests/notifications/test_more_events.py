"""Resource requests, action items and inspection flags notify the people they concern."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from django.utils import timezone

from coaching import services as coaching_services
from forecasting.services.flags import _emit_new_flags
from notifications.kinds import Kind
from notifications.models import Notification
from tests.coaching.factories import AccountReviewFactory
from tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


def kinds_of(person) -> list[str]:
    return sorted(Notification.objects.filter(recipient=person).values_list("kind", flat=True))


def test_a_resource_request_goes_to_the_manager_and_the_decision_to_the_rep(
    process, rep_a, manager_a, manager_b, django_capture_on_commit_callbacks
):
    deal = OpportunityFactory(owner=rep_a, process=process)
    with django_capture_on_commit_callbacks(execute=True):
        request = coaching_services.resource_request_create(
            actor=rep_a, opportunity=deal, kind="demo"
        )
    assert kinds_of(manager_a) == [Kind.REQUEST_RAISED]
    assert kinds_of(manager_b) == []
    with django_capture_on_commit_callbacks(execute=True):
        coaching_services.resource_request_decide(
            actor=manager_a, request=request, approve=False, note="Qualify the budget first"
        )
    note = Notification.objects.get(recipient=rep_a)
    assert note.kind == Kind.REQUEST_DECIDED
    assert note.body == "Qualify the budget first"


def test_an_action_item_is_announced_to_its_owner(
    rep_a, manager_a, django_capture_on_commit_callbacks
):
    review = AccountReviewFactory(account__owner=rep_a, created_by=manager_a)
    with django_capture_on_commit_callbacks(execute=True):
        coaching_services.action_item_add(
            actor=manager_a,
            review=review,
            description="Send pricing",
            owner=rep_a,
            due_on=timezone.localdate() + dt.timedelta(days=3),
        )
    note = Notification.objects.get(recipient=rep_a)
    assert note.kind == Kind.ACTION_ASSIGNED
    assert note.link == f"/coaching/reviews/{review.pk}/"


def test_new_flags_tell_the_owner_and_manager_once_a_week(
    process, rep_a, manager_a, executive, django_capture_on_commit_callbacks
):
    deal = OpportunityFactory(owner=rep_a, process=process, name="Initech")
    raised = pd.DataFrame(
        [{"opportunity_id": deal.pk, "owner_id": rep_a.pk, "kind": "pushed_twice", "detail": "x"}]
    )
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        _emit_new_flags(raised, set(), now)
        # the next refresh still has it: not new, nothing emitted
        _emit_new_flags(raised, {(deal.pk, "pushed_twice")}, now)
        # it went and came back the same week: told once
        _emit_new_flags(raised, set(), now + dt.timedelta(minutes=1))
    assert kinds_of(rep_a) == [Kind.DEAL_FLAGGED]
    assert kinds_of(manager_a) == [Kind.DEAL_FLAGGED]
    assert kinds_of(executive) == []
