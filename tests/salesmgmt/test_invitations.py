"""Sign-in invitations (salesmgmt.invitations): the token, who may invite whom, the accept
page, the administrators' page and API, and the e-mail through a real local SMTP server."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from salesmgmt import invitations
from salesmgmt.errors import PermissionDeniedError
from salesmgmt.models import AuditEvent, Invitation, Role, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BASE = "http://testserver/"
STRONG = "correct-horse-battery-staple-42"


def _imported(**fields) -> User:
    """A person as an import makes them: no usable password, never signed in."""
    user = UserFactory(**fields)
    user.set_unusable_password()
    user.save()
    return user


@pytest.fixture
def mail_off(settings):
    settings.INVITATIONS_SEND_EMAIL = False
    settings.SITE_URL = ""


@pytest.fixture
def newcomer(db, manager_a):
    return _imported(username="newcomer", manager=manager_a, first_name="Nia", last_name="New")


# --- the token ---------------------------------------------------------------------------------


def test_a_fresh_token_names_the_person(newcomer):
    checked = invitations.check_token(invitations.make_token(newcomer))
    assert checked.user == newcomer
    assert checked.problem == ""


def test_a_token_dies_after_max_age(newcomer, settings, monkeypatch):
    settings.INVITATION_MAX_AGE_DAYS = 7
    eight_days_ago = int(time.time()) - 8 * 86400
    monkeypatch.setattr(
        signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(eight_days_ago)
    )
    token = invitations.make_token(newcomer)
    monkeypatch.undo()
    checked = invitations.check_token(token)
    assert checked.user is None
    assert "expired" in checked.problem
    settings.INVITATION_MAX_AGE_DAYS = 9  # the same token, within a longer limit: accepted
    assert invitations.check_token(token).user == newcomer


def test_a_token_works_once(newcomer):
    token = invitations.make_token(newcomer)
    invitations.invitation_accept(token=token, password=STRONG)
    checked = invitations.check_token(token)
    assert checked.user is None
    assert "already been used" in checked.problem
    with pytest.raises(PermissionDeniedError, match="already been used"):
        invitations.invitation_accept(token=token, password="another-" + STRONG)
    newcomer.refresh_from_db()
    assert newcomer.check_password(STRONG)


def test_signing_in_also_uses_up_a_token(newcomer):
    token = invitations.make_token(newcomer)
    newcomer.last_login = timezone.now()
    newcomer.save()
    assert "already been used" in invitations.check_token(token).problem


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the signature
        lambda t: "x" + t,  # the payload
        lambda t: signing.TimestampSigner(salt="another.salt").sign_object({"u": 1, "f": "x"}),
        lambda t: "not-a-token",
        lambda t: "",
    ],
)
def test_a_tampered_token_is_refused(newcomer, tamper):
    checked = invitations.check_token(tamper(invitations.make_token(newcomer)))
    assert checked.user is None
    assert "not valid" in checked.problem


def test_a_token_for_someone_deactivated_is_refused(newcomer):
    token = invitations.make_token(newcomer)
    User.objects.filter(pk=newcomer.pk).update(is_active=False)
    assert invitations.check_token(token).user is None


# --- who may invite, and whom ----------------------------------------------------------------


@pytest.mark.parametrize(
    "persona", ["rep_a", "se_a", "rep_b", "manager_a", "manager_b", "executive", "integrator"]
)
def test_only_administrators_invite(personas, newcomer, persona, mail_off):
    actor = personas[persona]
    with pytest.raises(PermissionDeniedError, match="Only administrators"):
        invitations.user_invite(actor=actor, user=newcomer, base_url=BASE)
    with pytest.raises(PermissionDeniedError, match="Only administrators"):
        invitations.users_invite_pending(actor=actor, base_url=BASE)
    assert not Invitation.objects.exists()


def test_an_administrator_invites_and_it_is_recorded(admin_user, newcomer, mail_off):
    sent = invitations.user_invite(actor=admin_user, user=newcomer, base_url=BASE)
    assert sent.link.startswith("http://testserver/invitations/")
    assert not sent.emailed
    row = Invitation.objects.get()
    assert (row.user, row.invited_by, row.emailed_to) == (newcomer, admin_user, "")
    assert row.expires_at - row.invited_at == dt.timedelta(days=7)
    assert AuditEvent.objects.filter(action="user.invited", actor=admin_user).exists()
    token = sent.link.rstrip("/").rsplit("/", 1)[1]
    assert invitations.check_token(token).user == newcomer


def test_people_who_can_sign_in_are_not_invited(admin_user, rep_a, integrator, mail_off):
    # rep_a has a password (the factory's); an integration uses tokens; an inactive person.
    inactive = _imported(username="gone", is_active=False)
    for person, reason in [
        (rep_a, "already has a password"),
        (integrator, "integration"),
        (inactive, "inactive"),
    ]:
        with pytest.raises(PermissionDeniedError, match=reason):
            invitations.user_invite(actor=admin_user, user=person, base_url=BASE)


def test_an_api_token_cannot_invite_an_administrator(admin_user, mail_off):
    new_admin = _imported(username="new_admin", role=Role.ADMIN)
    with pytest.raises(PermissionDeniedError, match="administrator signed in"):
        invitations.user_invite(actor=admin_user, user=new_admin, base_url=BASE)
    assert invitations.users_invite_pending(actor=admin_user, base_url=BASE) == []
    sent = invitations.user_invite(actor=admin_user, user=new_admin, base_url=BASE, in_session=True)
    assert sent.invitation.user == new_admin


def test_invite_pending_reaches_everyone_not_yet_invited(admin_user, newcomer, rep_a, mail_off):
    fresh = _imported(username="fresh")
    expired = _imported(username="expired")
    current = _imported(username="current")
    _imported(username="robot", role=Role.INTEGRATOR)
    _imported(username="left", is_active=False)
    signed_in = _imported(username="signed_in")
    User.objects.filter(pk=signed_in.pk).update(last_login=timezone.now())
    now = timezone.now()
    Invitation.objects.create(user=expired, invited_at=now - dt.timedelta(days=9), expires_at=now)
    Invitation.objects.create(user=current, expires_at=now + dt.timedelta(days=3))

    assert set(invitations.pending_people()) == {newcomer, fresh, expired}
    sent = invitations.users_invite_pending(actor=admin_user, base_url=BASE)
    assert {s.invitation.user for s in sent} == {newcomer, fresh, expired}
    assert invitations.pending_people().count() == 0
    assert invitations.users_invite_pending(actor=admin_user, base_url=BASE) == []


# --- the accept page ---------------------------------------------------------------------------


def _accept_url(user: User) -> str:
    return reverse("invitation_accept", args=[invitations.make_token(user)])


def test_the_accept_page_sets_the_password_and_signs_in(client, newcomer):
    url = _accept_url(newcomer)
    page = client.get(url)
    assert page.status_code == 200
    assert b"Welcome, Nia New" in page.content
    assert page["Cache-Control"] == "no-store"
    # The token never leaves the site, yet the form's own post keeps its origin: a browser
    # posts a "no-referrer" page's form with "Origin: null", refused by the CSRF check.
    assert page["Referrer-Policy"] == "same-origin"
    response = client.post(url, {"new_password1": STRONG, "new_password2": STRONG})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(newcomer.pk)
    newcomer.refresh_from_db()
    assert newcomer.check_password(STRONG)
    assert newcomer.last_login is not None
    client.logout()
    again = client.get(url)
    assert again.status_code == 400
    assert b"already been used" in again.content
    # And the password works on the log-in page.
    assert client.login(username="newcomer", password=STRONG)


def test_the_accept_page_applies_the_password_validators(client, newcomer):
    url = _accept_url(newcomer)
    response = client.post(url, {"new_password1": "12345", "new_password2": "12345"})
    assert response.status_code == 400
    assert b"too short" in response.content or b"too common" in response.content
    assert "_auth_user_id" not in client.session
    newcomer.refresh_from_db()
    assert not newcomer.has_usable_password()


def test_an_invited_admin_still_sets_up_two_factor(client, settings):
    settings.TWO_FACTOR_REQUIRED_ROLES = ["admin"]
    new_admin = _imported(username="new_admin", role=Role.ADMIN)
    url = _accept_url(new_admin)
    response = client.post(url, {"new_password1": STRONG, "new_password2": STRONG})
    assert response.status_code == 302
    assert response["Location"] == reverse("two_factor_login_enrol")
    assert "_auth_user_id" not in client.session  # the password alone does not sign in


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_bad_link_gets_a_clear_page(client, newcomer, settings, method):
    settings.INVITATION_MAX_AGE_DAYS = 0
    expired_url = _accept_url(newcomer)
    time.sleep(1.1)  # the signature's age, in whole seconds, passes 0 days
    for url, words in [
        (expired_url, b"has expired"),
        (reverse("invitation_accept", args=["forged:token"]), b"not valid"),
    ]:
        response = getattr(client, method)(url, {"new_password1": STRONG, "new_password2": STRONG})
        assert response.status_code == 400
        assert words in response.content
    newcomer.refresh_from_db()
    assert not newcomer.has_usable_password()


# --- the administrators' page ------------------------------------------------------------------


def test_the_people_page_shows_a_link_to_copy_without_email(client, admin_user, newcomer, mail_off):
    client.force_login(admin_user)
    page = client.get(reverse("people_invitations"))
    assert page.status_code == 200
    assert b"Invite everyone not yet invited (1)" in page.content
    response = client.post(reverse("person_invite", args=[newcomer.pk]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    link = re.search(rb'value="(http://testserver/invitations/[^"]+)"', response.content)
    assert link is not None
    token = link.group(1).decode().rstrip("/").rsplit("/", 1)[1]
    assert invitations.check_token(token).user == newcomer
    assert b"Invite everyone not yet invited (0)" in response.content


def test_the_bulk_button_invites_everyone_pending(client, admin_user, newcomer, mail_off):
    other = _imported(username="other")
    client.force_login(admin_user)
    response = client.post(reverse("people_invite_pending"))
    assert response.status_code == 200
    assert b"Invitations made (2)" in response.content
    assert set(Invitation.objects.values_list("user", flat=True)) == {newcomer.pk, other.pk}
    again = client.post(reverse("people_invite_pending"), follow=True)
    assert b"already has an invitation" in again.content
    assert Invitation.objects.count() == 2


@pytest.mark.parametrize(
    "persona", ["rep_a", "se_a", "rep_b", "manager_a", "manager_b", "executive", "integrator"]
)
def test_the_people_pages_are_for_administrators(client, personas, newcomer, persona):
    client.force_login(personas[persona])
    assert client.get(reverse("people_invitations")).status_code == 403
    assert client.post(reverse("person_invite", args=[newcomer.pk])).status_code == 403
    assert client.post(reverse("people_invite_pending")).status_code == 403
    assert not Invitation.objects.exists()


# --- the API ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona", ["rep_a", "se_a", "rep_b", "manager_a", "manager_b", "executive", "integrator"]
)
def test_the_api_refuses_everyone_but_administrators(api_client_for, personas, newcomer, persona):
    api = api_client_for(personas[persona])
    # manager_a sees the newcomer (their report) and is still refused, like everyone else.
    assert api.post(f"/api/v1/users/{newcomer.pk}/invite/").status_code == 403
    assert api.post("/api/v1/users/invite-pending/").status_code == 403
    assert not Invitation.objects.exists()


def test_the_api_returns_links_when_mail_is_off(api_client_for, admin_user, newcomer, mail_off):
    api = api_client_for(admin_user)
    response = api.post(f"/api/v1/users/{newcomer.pk}/invite/")
    assert response.status_code == 201
    body = response.json()
    assert body["user"] == newcomer.pk
    assert body["emailed_to"] == ""
    assert body["link"].startswith("http://testserver/invitations/")
    other = _imported(username="other")
    bulk = api.post("/api/v1/users/invite-pending/")
    assert bulk.status_code == 201
    assert bulk.json()["invited"] == 1
    assert [row["user"] for row in bulk.json()["invitations"]] == [other.pk]
    assert bulk.json()["invitations"][0]["link"].startswith("http://testserver/invitations/")


# --- e-mail through a real SMTP server on loopback ----------------------------------------------


@pytest.fixture
def smtp_inbox(smtp_server):
    """The shared loopback SMTP server (tests/fixtures/mail.py), invitations e-mailed."""
    return smtp_server


def test_the_invitation_is_emailed_after_commit(
    client, admin_user, newcomer, smtp_inbox, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("person_invite", args=[newcomer.pk]))
    assert smtp_inbox.messages == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert response.status_code == 200
    assert f"E-mail sent to {newcomer.email}".encode() in response.content
    assert b"https://sales.example.com/invitations/" not in response.content  # not shown
    assert [mail.recipients for mail in smtp_inbox.received] == [[newcomer.email]]
    message = smtp_inbox.messages[0]
    assert message["Subject"] == "Your sign-in invitation to salesmgmt"
    assert message["From"] == "salesmgmt@example.com"
    body = message.get_payload(decode=True).decode()
    link = re.search(r"https://sales\.example\.com(/invitations/\S+/)", body)
    assert link is not None
    assert "newcomer" in body  # the username
    assert Invitation.objects.get().emailed_to == newcomer.email

    # The person follows the e-mailed link and signs in.
    client.logout()
    accepted = client.post(link.group(1), {"new_password1": STRONG, "new_password2": STRONG})
    assert accepted.status_code == 302
    assert client.session["_auth_user_id"] == str(newcomer.pk)


def test_people_without_an_address_get_a_link_even_with_mail_on(
    admin_user, smtp_inbox, django_capture_on_commit_callbacks
):
    nameless = _imported(username="no_mail", email="")
    with django_capture_on_commit_callbacks(execute=True):
        sent = invitations.user_invite(actor=admin_user, user=nameless, base_url=BASE)
    assert not sent.emailed
    assert sent.link.startswith("https://sales.example.com/invitations/")
    assert smtp_inbox.messages == []


def test_a_rolled_back_invitation_sends_nothing(admin_user, newcomer, smtp_inbox):
    # Outside django_capture_on_commit_callbacks the test's transaction never commits:
    # the on-commit send never runs, as after a rollback.
    invitations.user_invite(actor=admin_user, user=newcomer, base_url=BASE)
    assert smtp_inbox.messages == []


def test_the_api_gives_no_link_when_it_was_emailed(
    api_client_for, admin_user, newcomer, smtp_inbox, django_capture_on_commit_callbacks
):
    api = api_client_for(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/users/{newcomer.pk}/invite/")
    assert response.status_code == 201
    assert response.json()["emailed_to"] == newcomer.email
    assert response.json()["link"] is None
    assert [mail.recipients for mail in smtp_inbox.received] == [[newcomer.email]]


def test_the_api_refuses_a_body(api_client_for, admin_user, newcomer, mail_off):
    api = api_client_for(admin_user)
    response = api.post(f"/api/v1/users/{newcomer.pk}/invite/", {"email": "x@evil.example"})
    assert response.status_code == 400
    assert "email" in response.json()["fields"]
    assert not Invitation.objects.exists()


# --- imported people sign in through their invitation -------------------------------------------


def test_imported_people_sign_in_through_their_invitation(
    client, admin_user, mail_off, django_capture_on_commit_callbacks
):
    importer = APIClient()
    importer.force_login(admin_user)
    text = (
        "Name,Email,Role,Manager's email\n"
        "Max Manager,max@corp.com,manager,\n"
        "Rae Rep,rae@corp.com,Sales rep,max@corp.com\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        started = importer.post(
            "/api/v1/imports/",
            {"kind": "users", "content": text, "dry_run": False},
            format="json",
        )
    assert started.status_code == 202, started.content
    job = importer.get(f"/api/v1/imports/{started.json()['id']}/").json()
    assert job["status"] == "succeeded", job["errors"]
    imported = list(User.objects.filter(email__in=["max@corp.com", "rae@corp.com"]))
    assert len(imported) == 2
    assert not any(person.has_usable_password() for person in imported)

    # The import invited them: the links are on the job, and nobody is left to invite.
    links = [
        item["link"].removeprefix("http://testserver") for item in job["summary"]["invitations"]
    ]
    assert len(links) == 2
    assert not invitations.pending_people().exists()
    for link in links:
        response = client.post(link, {"new_password1": STRONG, "new_password2": STRONG})
        assert response.status_code == 302
        client.logout()
    for person in imported:
        assert client.login(username=person.username, password=STRONG)
        client.logout()
