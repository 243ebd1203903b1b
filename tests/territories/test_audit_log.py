"""Quota changes write one audit event each."""

from decimal import Decimal

from salesmgmt.models import AuditEvent
from territories import services


def test_quota_update_writes_one_audit_event(manager_a, rep_a, q1):
    quota = services.quota_update(
        actor=manager_a, person=rep_a, period=q1, reason="Plan", amount=Decimal("90000")
    )

    event = AuditEvent.objects.get(action="quota.updated")
    assert (event.actor, event.target_id) == (manager_a, str(quota.pk))
    assert event.details["amount"] == "90000.00"
    assert event.details["reason"] == "Plan"
