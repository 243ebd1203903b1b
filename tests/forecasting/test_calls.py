"""Calls and adjustments: separate layers, each submission kept with its audit, weekly lock."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from forecasting.models import CallLayer, CallOfRecord, ForecastCall
from forecasting.selectors import reads
from forecasting.services import calls
from salesmgmt.errors import PermissionDeniedError
from salesmgmt.models import Period
from tests.forecasting.factories import quarter


def test_submit_call_keeps_every_submission_with_old_and_new(rep_a, period):
    first = calls.call_submit(actor=rep_a, period=period, commit_amount=100, best_case_amount=200)
    second = calls.call_submit(
        actor=rep_a, period=period, commit_amount=150, best_case_amount=250, note="Acme slipped in"
    )

    assert ForecastCall.objects.filter(person=rep_a).count() == 2
    assert (first.previous_commit_amount, first.commit_amount) == (None, Decimal(100))
    assert (second.previous_commit_amount, second.commit_amount) == (Decimal(100), Decimal(150))
    assert (second.submitted_by, second.layer) == (rep_a, CallLayer.OWNER)
    assert calls.latest_call(person=rep_a, period=period) == second


def test_submit_call_refuses_best_case_below_commit(rep_a, period):
    with pytest.raises(ValidationError, match="Best case"):
        calls.call_submit(actor=rep_a, period=period, commit_amount=300, best_case_amount=200)


def test_manager_adjustment_is_a_separate_layer_with_a_note(rep_a, manager_a, period):
    owner = calls.call_submit(actor=rep_a, period=period, commit_amount=100, best_case_amount=200)

    adjusted = calls.call_adjust(
        actor=manager_a,
        person=rep_a,
        period=period,
        commit_amount=80,
        best_case_amount=200,
        note="Globex never closes in the last week",
    )

    assert adjusted.layer == CallLayer.MANAGER
    assert (adjusted.previous_commit_amount, adjusted.commit_amount) == (Decimal(100), Decimal(80))
    assert adjusted.submitted_by == manager_a
    # The owner's layer is untouched.
    assert calls.latest_call(person=rep_a, period=period) == owner


def test_manager_adjustment_needs_a_note_and_a_manager(rep_a, rep_b, manager_a, period):
    with pytest.raises(ValidationError, match="why"):
        calls.call_adjust(
            actor=manager_a,
            person=rep_a,
            period=period,
            commit_amount=1,
            best_case_amount=1,
            note=" ",
        )
    with pytest.raises(PermissionDeniedError):
        calls.call_adjust(
            actor=manager_a,
            person=rep_b,
            period=period,
            commit_amount=1,
            best_case_amount=1,
            note="not my team",
        )
    with pytest.raises(PermissionDeniedError):
        calls.call_adjust(
            actor=rep_a,
            person=rep_a,
            period=period,
            commit_amount=1,
            best_case_amount=1,
            note="self",
        )


def test_weekly_lock_freezes_the_call_of_record_and_carries_it_over(rep_a, manager_a, period):
    monday = timezone.now()
    calls.call_submit(
        actor=rep_a,
        period=period,
        commit_amount=100,
        best_case_amount=200,
        at=monday - dt.timedelta(days=1),
    )
    calls.call_adjust(
        actor=manager_a,
        person=rep_a,
        period=period,
        commit_amount=90,
        best_case_amount=150,
        note="haircut",
        at=monday - dt.timedelta(hours=1),
    )

    assert calls.calls_lock(at=monday) == 1
    assert calls.calls_lock(at=monday) == 0  # the same week twice: nothing changes
    # A later submission does not change the frozen record ...
    calls.call_submit(actor=rep_a, period=period, commit_amount=500, best_case_amount=600)
    record = CallOfRecord.objects.get(person=rep_a, locked_on=timezone.localdate(monday))
    assert (record.commit_amount, record.manager_commit_amount) == (Decimal(100), Decimal(90))
    # ... and next week, with no new call, the last one carries over.
    next_week = monday + dt.timedelta(days=7)
    calls.calls_lock(at=next_week)
    carried = CallOfRecord.objects.get(person=rep_a, locked_on=timezone.localdate(next_week))
    assert carried.commit_amount == Decimal(500)


def test_submitting_a_call_emits_forecast_submitted_to_entitled_subscribers(
    rep_a, manager_a, integrator, period, monkeypatch, django_capture_on_commit_callbacks
):
    from salesmgmt import tasks as core_tasks
    from salesmgmt.models import WebhookDelivery, WebhookSubscription

    monkeypatch.setattr(core_tasks.deliver_webhook, "delay", lambda pk: None)  # no HTTP
    for owner in (integrator, manager_a):
        WebhookSubscription.objects.create(
            owner=owner,
            url="https://hooks.example.com/x",
            secret="s",
            events=["forecast.submitted"],
        )

    with django_capture_on_commit_callbacks(execute=True):
        call = calls.call_submit(actor=rep_a, period=period, commit_amount=10, best_case_amount=20)

    delivery = WebhookDelivery.objects.get()  # only admins and integrators receive webhooks
    assert delivery.subscription.owner == integrator
    assert delivery.event == "forecast.submitted"
    assert delivery.payload["data"]["id"] == call.pk
    assert delivery.payload["data"]["commit_amount"] == "10.00"


@pytest.mark.parametrize("kind", ["year", "month"])
def test_calls_are_only_for_quarters(rep_a, manager_a, period, kind):
    other = Period.objects.get(
        kind=kind, start_on__lte=period.start_on, end_on__gte=period.start_on
    )

    with pytest.raises(ValidationError) as refused:
        calls.call_submit(actor=rep_a, period=other, commit_amount=1, best_case_amount=2)
    with pytest.raises(ValidationError):
        calls.call_adjust(
            actor=manager_a,
            person=rep_a,
            period=other,
            commit_amount=1,
            best_case_amount=2,
            note="x",
        )

    assert f"is a {kind}" in refused.value.message_dict["period"][0]
    assert not ForecastCall.objects.exists()


def test_calls_are_refused_for_a_quarter_that_has_ended(rep_a, period):
    ended = quarter(period.start_on - dt.timedelta(days=1))

    with pytest.raises(ValidationError) as refused:
        calls.call_submit(actor=rep_a, period=ended, commit_amount=1, best_case_amount=2)
    # a call dated while it was open (as imports and backtests record) is accepted
    calls.call_submit(
        actor=rep_a,
        period=ended,
        commit_amount=1,
        best_case_amount=2,
        at=timezone.make_aware(dt.datetime.combine(ended.end_on, dt.time(12))),
    )

    assert "has ended" in refused.value.message_dict["period"][0]
    assert ForecastCall.objects.count() == 1


def test_forecast_view_rows_carry_the_latest_call_adjustment_and_record(rep_a, manager_a, period):
    """Only the latest of each is read (the history stays in the table): the newest
    submission and adjustment, and the latest week's call of record."""
    for week, amount in enumerate((100, 200, 300)):
        calls.call_submit(actor=rep_a, period=period, commit_amount=amount, best_case_amount=900)
        calls.call_adjust(
            actor=manager_a, person=rep_a, period=period, commit_amount=amount - 10,
            best_case_amount=800, note=f"week {week}",
        )  # fmt: skip
    for week in (2, 0, 1):  # stored out of order: the latest week wins, not the last row
        CallOfRecord.objects.create(
            person=rep_a, period=period, locked_on=period.start_on + dt.timedelta(days=7 * week),
            commit_amount=Decimal(100 * (week + 1)), best_case_amount=Decimal(900),
        )  # fmt: skip

    view = reads.forecast_view(viewer=manager_a, person=manager_a, period=period, whole_tree=False)

    (row,) = [r for r in view.rows if r.person == rep_a]
    assert ForecastCall.objects.filter(person=rep_a).count() == 6
    assert (row.call.commit_amount, row.adjustment.commit_amount) == (Decimal(300), Decimal(290))
    assert row.adjustment.note == "week 2"
    assert row.record.locked_on == period.start_on + dt.timedelta(days=14)
    assert row.record.commit_amount == Decimal(300)
