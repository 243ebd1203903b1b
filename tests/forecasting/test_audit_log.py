"""Forecast calls and manager adjustments write one audit event each."""

from forecasting.services import calls
from salesmgmt.models import AuditEvent


def test_submit_and_adjust_call_write_one_audit_event_each(rep_a, manager_a, period):
    submitted = calls.call_submit(
        actor=rep_a, period=period, commit_amount=100, best_case_amount=200
    )
    adjusted = calls.call_adjust(
        actor=manager_a,
        person=rep_a,
        period=period,
        commit_amount=80,
        best_case_amount=200,
        note="Globex slips",
    )

    events = AuditEvent.objects.filter(action__startswith="forecast.").order_by("id")
    assert [(e.action, e.actor, e.target_id) for e in events] == [
        ("forecast.call_submitted", rep_a, str(submitted.pk)),
        ("forecast.call_adjusted", manager_a, str(adjusted.pk)),
    ]
