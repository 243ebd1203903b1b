"""Roles and admin rights change only by an administrator signed in (never a token, never an
integration), always audited with that person; rights follow the role, and a demotion takes
every one of them away (staff, superuser, groups, permissions)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Opportunity
from salesmgmt import services
from salesmgmt.errors import PermissionDeniedError
from salesmgmt.models import AuditEvent, ImportJob, Role, User
from tests.factories import OpportunityFactory, UserFactory

PROMOTE_REP_A = "name,email,role\nRae Adams,rep_a@example.com,admin\n"


def _upload(client, text, django_capture_on_commit_callbacks) -> dict:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/imports/",
            {"kind": "users", "content": text, "dry_run": False},
            format="json",
        )
    assert response.status_code == 202, response.content
    return client.get(f"/api/v1/imports/{response.json()['id']}/").json()


def _session_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def _assert_still_a_rep(user: User) -> None:
    user.refresh_from_db()
    assert (user.role, user.is_staff, user.is_superuser) == (Role.REP, False, False)


# --- users CSV import ---------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["integrator", "admin"])
def test_a_token_cannot_promote_anyone_through_a_users_import(
    client, api_client_for, personas, process, rep_a, django_capture_on_commit_callbacks, persona
):
    # Given someone else's deal the rep must not see
    OpportunityFactory(owner=personas["rep_b"], process=process)

    job = _upload(
        api_client_for(personas[persona]), PROMOTE_REP_A, django_capture_on_commit_callbacks
    )

    assert job["status"] == "failed"
    assert [(e["row"], e["column"]) for e in job["errors"]] == [(2, "role")]
    assert "Only an administrator signed in" in job["errors"][0]["reason"]
    _assert_still_a_rep(rep_a)
    client.force_login(rep_a)
    assert client.get("/admin/").status_code == 302  # to the admin log-in
    assert not Opportunity.objects.visible_to(rep_a).exists()


def test_an_administrator_signed_in_promotes_and_is_the_audited_actor(
    admin_user, rep_a, django_capture_on_commit_callbacks
):
    job = _upload(_session_client(admin_user), PROMOTE_REP_A, django_capture_on_commit_callbacks)

    assert job["status"] == "succeeded", job["errors"]
    rep_a.refresh_from_db()
    assert (rep_a.role, rep_a.is_staff, rep_a.is_superuser) == (Role.ADMIN, True, True)
    event = AuditEvent.objects.get(action="user.updated", target_id=str(rep_a.pk))
    assert event.actor == admin_user
    assert event.details["role"] == {"from": "rep", "to": "admin"}


def test_an_administrator_promotes_on_the_imports_page(
    client, admin_user, rep_a, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    upload = SimpleUploadedFile("people.csv", PROMOTE_REP_A.encode(), "text/csv")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports"), {"kind": "users", "file": upload})

    assert response.status_code == 302
    assert ImportJob.objects.get().status == ImportJob.Status.SUCCEEDED
    rep_a.refresh_from_db()
    assert rep_a.role == Role.ADMIN


def test_an_integration_loads_reps_and_other_fields_but_gives_no_role(
    api_client_for, integrator, rep_a, django_capture_on_commit_callbacks
):
    text = (
        "email,name,role,region\n"
        "rep_a@example.com,Rae Renamed,rep,EMEA\n"  # the same role: not a change
        "new.rep@corp.com,New Rep,rep,EMEA\n"
        "new.boss@corp.com,New Boss,manager,EMEA\n"
    )

    refused = _upload(api_client_for(integrator), text, django_capture_on_commit_callbacks)
    loaded = _upload(
        api_client_for(integrator),
        text.replace("new.boss@corp.com,New Boss,manager", "new.boss@corp.com,New Boss,rep"),
        django_capture_on_commit_callbacks,
    )

    assert [(e["row"], e["column"]) for e in refused["errors"]] == [(4, "role")]
    assert loaded["status"] == "succeeded", loaded["errors"]
    assert set(User.objects.filter(email__endswith="@corp.com").values_list("role", flat=True)) == {
        Role.REP
    }
    created = AuditEvent.objects.get(
        action="user.created", target_id=str(User.objects.get(email="new.rep@corp.com").pk)
    )
    assert created.actor == integrator


# --- the services -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor_name", "in_session"),
    [
        (None, True),
        ("admin", False),
        ("integrator", True),
        ("manager_a", True),
        ("executive", True),
    ],
)
def test_update_user_refuses_role_changes_but_by_an_administrator_in_a_session(
    personas, rep_a, actor_name, in_session
):
    actor = personas[actor_name] if actor_name else None

    with pytest.raises(PermissionDeniedError):
        services.user_update(user=rep_a, actor=actor, in_session=in_session, role=Role.ADMIN)

    _assert_still_a_rep(rep_a)
    assert not AuditEvent.objects.filter(action="user.updated").exists()


def test_create_user_refuses_staff_flags_and_roles_without_an_administrator(integrator):
    with pytest.raises(PermissionDeniedError):
        services.user_create(
            username="x", email="x@corp.com", role=Role.EXECUTIVE, actor=integrator
        )
    with pytest.raises(Exception, match="Set through the role"):
        services.user_create(username="y", email="y@corp.com", is_superuser=True)

    assert not User.objects.filter(email__endswith="@corp.com").exists()


def test_demoting_an_admin_takes_every_privilege_away(admin_user):
    other_admin = UserFactory(username="admin2", role=Role.ADMIN, is_staff=True, is_superuser=True)
    other_admin.groups.add(Group.objects.create(name="Ops"))
    other_admin.user_permissions.add(Permission.objects.get(codename="change_user"))

    services.user_update(user=other_admin, actor=admin_user, in_session=True, role=Role.MANAGER)

    other_admin = User.objects.get(pk=other_admin.pk)
    assert (other_admin.role, other_admin.is_staff, other_admin.is_superuser) == (
        Role.MANAGER,
        False,
        False,
    )
    assert not other_admin.groups.exists()
    assert not other_admin.user_permissions.exists()
    assert not other_admin.has_perm("salesmgmt.change_user")


def test_any_role_change_leaves_consistent_flags(admin_user, manager_a):
    # A manager someone once ticked "staff" for, by hand
    User.objects.filter(pk=manager_a.pk).update(is_staff=True)
    manager_a.refresh_from_db()

    services.user_update(user=manager_a, actor=admin_user, in_session=True, role=Role.REP)

    manager_a.refresh_from_db()
    assert (manager_a.role, manager_a.is_staff, manager_a.is_superuser) == (Role.REP, False, False)


# --- the admin ----------------------------------------------------------------------------------


def _admin_change(client, user: User, **overrides):
    data = {
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": "on",
        "role": user.role,
        "manager": user.manager_id or "",
        "title": user.title,
        "sales_role": user.sales_role,
        "region": user.region,
        "hire_date": "",
        "external_id": user.external_id,
        **overrides,
    }
    return client.post(reverse("admin:salesmgmt_user_change", args=[user.pk]), data)


def test_admin_promotion_and_demotion_keep_rights_with_the_role(client, admin_user, rep_a):
    group = Group.objects.create(name="Ops")
    client.force_login(admin_user)

    promoted = _admin_change(client, rep_a, role=Role.ADMIN, groups=[group.pk])
    rep_a.refresh_from_db()
    rights_as_admin = (rep_a.is_staff, rep_a.is_superuser, rep_a.groups.count())
    demoted = _admin_change(client, rep_a, role=Role.REP, groups=[group.pk])
    rep_a.refresh_from_db()

    assert (promoted.status_code, demoted.status_code) == (302, 302)
    assert rights_as_admin == (True, True, 1)
    assert (rep_a.role, rep_a.is_staff, rep_a.is_superuser) == (Role.REP, False, False)
    assert not rep_a.groups.exists()
    events = AuditEvent.objects.filter(action="user.privileges_changed").order_by("id")
    assert [(e.actor, e.details["role"]["to"]) for e in events] == [
        (admin_user, "admin"),
        (admin_user, "rep"),
    ]


def test_staff_who_are_not_administrators_cannot_touch_rights_in_the_admin(client, rep_a):
    staff = UserFactory(username="helpdesk", role=Role.MANAGER, is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["change_user", "view_user"])
    )
    client.force_login(staff)

    page = client.get(reverse("admin:salesmgmt_user_change", args=[rep_a.pk]))
    response = _admin_change(client, rep_a, role=Role.ADMIN, is_superuser="on")

    assert page.status_code == 200
    assert 'name="role"' not in page.text
    assert response.status_code == 302  # the other fields saved; rights were not offered
    _assert_still_a_rep(rep_a)
