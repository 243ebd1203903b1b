"""Statements and disputes notify the people they concern (the notifications app listens to
the events these services emit)."""

from __future__ import annotations

import datetime as dt

import pytest

from compensation import services
from notifications.kinds import Kind
from notifications.models import Notification
from tests.compensation.factories import won_deal

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(process, plan, quotas, rep_a, rep_b):
    return {"big": won_deal(rep_a, "145000", dt.date(2026, 1, 20), name="Big rollout")}


def kinds_of(person) -> list[str]:
    return sorted(Notification.objects.filter(recipient=person).values_list("kind", flat=True))


def test_statement_ready_approved_and_a_dispute_round_trip(
    booked, q1, rep_a, manager_a, manager_b, executive, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run = services.payout_run_process(
            run=services.payout_run_compute(period=q1, actor=executive), actor=executive
        )
    statement = run.statements.get(rep=rep_a)
    assert kinds_of(rep_a) == [Kind.STATEMENT_READY]
    line = statement.lines.first()
    with django_capture_on_commit_callbacks(execute=True):
        dispute = services.dispute_raise(actor=rep_a, line=line, text="Missing a deal")
    assert kinds_of(manager_a) == [Kind.DISPUTE_RAISED]
    assert kinds_of(manager_b) == []
    with django_capture_on_commit_callbacks(execute=True):
        services.dispute_resolve(actor=manager_a, dispute=dispute, note="Added it")
        services.statement_approve(actor=manager_a, statement=statement)
    assert kinds_of(rep_a) == sorted(
        [Kind.STATEMENT_READY, Kind.DISPUTE_RESOLVED, Kind.STATEMENT_APPROVED]
    )
