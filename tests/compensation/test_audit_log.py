"""Statement approvals and adjustments each write one audit event."""

from decimal import Decimal

from compensation import services
from salesmgmt.models import AuditEvent


def test_statement_approve_writes_one_audit_event(paid, manager_a):
    statement = paid["a"]

    services.statement_approve(actor=manager_a, statement=statement)

    event = AuditEvent.objects.get(action="statement.approved")
    assert (event.actor, event.target_type, event.target_id) == (
        manager_a,
        "compensation.statement",
        str(statement.pk),
    )


def test_statement_adjustment_writes_one_audit_event(paid, manager_a):
    statement = paid["a"]
    services.statement_approve(actor=manager_a, statement=statement)

    services.statement_adjustment_add(
        actor=manager_a, statement=statement, amount=Decimal("12.50"), reason="Missed SPIF"
    )

    event = AuditEvent.objects.get(action="statement.adjusted")
    assert event.details == {"amount": "12.50", "reason": "Missed SPIF"}
