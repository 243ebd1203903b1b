"""Log-ins and changes to people's roles and managers write one audit event each."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from salesmgmt import services
from salesmgmt.audit import audit_record
from salesmgmt.models import AuditEvent, Role


def test_login_success_writes_one_audit_event(client, rep_a):
    client.post("/login/", {"username": "rep_a", "password": "pw"}, REMOTE_ADDR="10.1.1.1")

    event = AuditEvent.objects.get(action="login.succeeded")
    assert (event.actor, event.ip) == (rep_a, "10.1.1.1")


def test_login_failure_writes_one_audit_event(client, rep_a):
    client.post("/login/", {"username": "rep_a", "password": "nope"}, REMOTE_ADDR="10.1.1.1")

    event = AuditEvent.objects.get(action="login.failed")
    assert event.actor is None
    assert event.details == {"username": "rep_a"}
    assert "nope" not in str(event.details)


def test_update_user_writes_one_audit_event(rep_a, admin_user):
    services.user_update(user=rep_a, actor=admin_user, in_session=True, role=Role.MANAGER)

    event = AuditEvent.objects.get(action="user.updated")
    assert (event.actor, event.target_id, event.details) == (
        admin_user,
        str(rep_a.pk),
        {"role": {"from": "rep", "to": "manager"}},
    )


def test_set_manager_writes_one_audit_event(rep_a, manager_b, admin_user):
    services.user_set_manager(user=rep_a, manager=manager_b, actor=admin_user)

    event = AuditEvent.objects.get(action="user.manager_set")
    assert (event.actor, event.details) == (admin_user, {"manager": manager_b.pk})


def test_admin_user_change_writes_audit_events(client, admin_user, rep_a, manager_b):
    client.force_login(admin_user)
    response = client.get(f"/admin/salesmgmt/user/{rep_a.pk}/change/")
    form = response.context["adminform"].form
    data = {
        name: value if value is not None else ""
        for name, value in form.initial.items()
        if name in form.fields and name not in ("password", "groups", "user_permissions")
    }
    data.update(
        {
            "manager": manager_b.pk,
            "date_joined_0": rep_a.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": rep_a.date_joined.strftime("%H:%M:%S"),
        }
    )
    data = {name: value for name, value in data.items() if value is not None}

    response = client.post(f"/admin/salesmgmt/user/{rep_a.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert AuditEvent.objects.filter(action="user.changed_in_admin", actor=admin_user).count() == 1
    assert AuditEvent.objects.filter(action="user.manager_set", actor=admin_user).count() == 1


def test_audit_events_are_append_only(rep_a):
    event = audit_record(action="test.thing", actor=rep_a, target=rep_a)

    event.action = "changed"
    with pytest.raises(ValidationError, match="append-only"):
        event.save()
