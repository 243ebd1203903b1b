"""The reminders the clock raises: forecast calls due, overdue and the manager's roll-up;
action items overdue; goals due. Idempotent per window."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail as outbox
from django.utils import timezone

from forecasting.services.calls import call_submit
from notifications import mail
from notifications.kinds import Kind
from notifications.models import EmailSend, Notification
from notifications.reminders import call_week, reminders_raise

pytestmark = pytest.mark.django_db


@pytest.fixture
def week(quarter, settings):
    """This week's deadline, Friday 17:00 (company time zone, UTC in the tests)."""
    settings.NOTIFICATIONS_CALL_DEADLINE_WEEKDAY = 4
    settings.NOTIFICATIONS_CALL_DEADLINE_HOUR = 17
    settings.NOTIFICATIONS_CALL_DUE_HOURS_BEFORE = 24
    today = timezone.localdate()
    at = dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC)
    found = call_week(now=at)
    assert found is not None
    assert found.period == quarter
    return found


def kinds(person) -> list[str]:
    return sorted(Notification.objects.filter(recipient=person).values_list("kind", flat=True))


def test_call_reminders_before_and_after_the_deadline(week, rep_a, se_a, manager_a, executive):
    early = week.opens_reminders_at - dt.timedelta(hours=1)
    assert reminders_raise(now=early) == 0

    due = week.deadline - dt.timedelta(hours=2)
    reminders_raise(now=due)
    assert kinds(rep_a) == [Kind.CALL_DUE]
    assert kinds(manager_a) == [Kind.CALL_DUE]  # managers call for their team too
    assert kinds(executive) == []  # executives owe no call
    assert reminders_raise(now=due + dt.timedelta(minutes=30)) == 0  # once per window

    # rep_a calls; after the deadline only the others are overdue, and the manager hears who
    call_submit(actor=rep_a, period=week.period, commit_amount=10, best_case_amount=20, at=due)
    reminders_raise(now=week.deadline + dt.timedelta(hours=1))
    assert kinds(rep_a) == [Kind.CALL_DUE]
    assert kinds(se_a) == sorted([Kind.CALL_DUE, Kind.CALL_OVERDUE])
    rollup = Notification.objects.get(recipient=manager_a, kind=Kind.CALLS_MISSING)
    assert str(se_a) in rollup.body
    assert str(rep_a) not in rollup.body


def test_a_queued_reminder_is_not_mailed_once_the_call_is_in(week, rep_a):
    # (the send's task is enqueued on commit, which this test never reaches: it stays queued)
    reminders_raise(now=week.deadline - dt.timedelta(hours=2))
    send = EmailSend.objects.get(recipient=rep_a, kind=Kind.CALL_DUE)
    call_submit(actor=rep_a, period=week.period, commit_amount=10, best_case_amount=20)
    assert mail.email_send(send_id=send.pk) == EmailSend.Status.SKIPPED
    assert not [m for m in outbox.outbox if m.to == [rep_a.email]]


def test_overdue_action_items_and_goals_due(rep_a, manager_a):
    from coaching import services as coaching_services
    from tests.coaching.factories import AccountReviewFactory

    today = timezone.localdate()
    review = AccountReviewFactory(account__owner=rep_a, created_by=manager_a)
    item = coaching_services.action_item_add(
        actor=manager_a, review=review, description="Send pricing", owner=rep_a, due_on=today
    )
    plan = coaching_services.plan_create(
        actor=manager_a, rep=rep_a, title="Discovery", assessed_needs="Questions"
    )
    coaching_services.goal_add(
        actor=manager_a, plan=plan, description="Run 5 discoveries", target_on=today
    )
    item.due_on = today - dt.timedelta(days=1)
    item.save()

    reminders_raise()
    reminders_raise()
    assert kinds(rep_a) == sorted([Kind.ACTION_OVERDUE, Kind.GOAL_DUE])
