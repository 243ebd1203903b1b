"""People known by name only and the office nodes of the hierarchy: usernames from names, an
e-mail unique whatever its case, an invitation link for someone without an address and their
sign-in with the username, the bulk invitation, and what each role sees of an imported team."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from salesmgmt import invitations, services
from salesmgmt.errors import PermissionDeniedError
from salesmgmt.models import Invitation, Role, User
from salesmgmt.visibility import visible_users
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STRONG = "correct-horse-battery-staple-42"
BASE = "http://testserver/"


@pytest.fixture
def mail_on(settings):
    """E-mail configured: people with an address are e-mailed, the others still get a link."""
    settings.INVITATIONS_SEND_EMAIL = True
    settings.SITE_URL = ""


def _named(first: str, last: str, **fields) -> User:
    return services.user_create(first_name=first, last_name=last, **fields)


# --- e-mail optional, usernames from names -----------------------------------------------------


def test_people_without_email_get_usernames_from_their_names():
    first = _named("Dana", "Reyes")
    second = _named("Dana", "Reyes")
    odd = _named("José", "de la Cruz")
    nameless = _named("", "")

    assert [p.username for p in (first, second, odd, nameless)] == [
        "dana.reyes",
        "dana.reyes-2",
        "jose.de-la-cruz",
        "person",
    ]
    assert (first.email, second.email) == ("", "")


def test_a_username_taken_in_another_case_is_skipped():
    UserFactory(username="Dana.Reyes")

    assert services.username_for(first_name="Dana", last_name="Reyes") == "dana.reyes-2"


def test_an_email_is_unique_whatever_its_case():
    services.user_create(first_name="Dana", last_name="Reyes", email="dana@corp.com")

    with pytest.raises(ValidationError, match="already has this e-mail"):
        services.user_create(first_name="D", last_name="R", email="Dana@Corp.com")
    assert User.objects.filter(email__iexact="dana@corp.com").count() == 1


# --- office nodes ------------------------------------------------------------------------------


@pytest.fixture
def office(db):
    return services.org_unit_create(name="  Central ")


def test_an_office_is_a_manager_node_without_a_way_in(office, client):
    assert (office.first_name, office.username, office.role) == (
        "Central",
        "office.central",
        "manager",
    )
    assert office.is_org_unit
    assert not office.has_usable_password()
    # Even with a password an administrator gave it in the admin, it cannot sign in.
    office.set_password(STRONG)
    office.save()
    assert not client.login(username="office.central", password=STRONG)
    response = client.post(reverse("login"), {"username": "office.central", "password": STRONG})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_an_office_is_never_invited(office, admin_user):
    assert office not in invitations.pending_people()
    with pytest.raises(PermissionDeniedError, match="office"):
        invitations.user_invite(actor=admin_user, user=office, base_url=BASE)
    assert invitations.check_token(invitations.make_token(office)).user is None


def test_an_office_cannot_be_given_rights(office):
    office.role = Role.ADMIN
    with pytest.raises(ValidationError):
        office.full_clean()


def test_an_office_owns_no_deals(office, admin_user):
    from accounts import services as account_services

    with pytest.raises(ValidationError, match="not an active seller"):
        account_services.account_create(actor=admin_user, name="Acme", owner=office)


# --- the invitation of a person without e-mail, end to end -------------------------------------


@pytest.fixture
def jo(db, manager_a):
    return _named("Jo", "Park", manager=manager_a)


def test_a_person_without_email_is_invited_by_a_link_and_signs_in_with_the_username(
    client, admin_user, jo, mail_on, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(reverse("person_invite", args=[jo.pk]))

    assert page.status_code == 200
    assert mailoutbox == []  # no address: nothing to send, even with e-mail on
    (link,) = re.findall(r'value="http://testserver(/invitations/[^"]+)"', page.content.decode())
    assert Invitation.objects.get(user=jo).emailed_to == ""
    client.logout()

    accept = client.get(link)
    assert accept.status_code == 200
    assert "jo.park" in accept.content.decode()  # the page says what to sign in with
    done = client.post(link, {"new_password1": STRONG, "new_password2": STRONG})
    assert done.status_code == 302
    client.logout()

    signed_in = client.post(reverse("login"), {"username": "jo.park", "password": STRONG})
    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"] == str(jo.pk)
    assert client.get(link).status_code == 400  # the link worked once


def test_the_bulk_button_invites_everyone_not_yet_invited_with_a_link_for_the_addressless(
    client, admin_user, jo, office, mail_on, mailoutbox, django_capture_on_commit_callbacks
):
    with_mail = _named("Ann", "Lee", email="ann@corp.com")
    client.force_login(admin_user)

    listing = client.get(reverse("people_invitations"))
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(reverse("people_invite_pending"))

    assert "Office (not a person)" in listing.content.decode()
    assert "signs in as jo.park" in listing.content.decode()
    invited = set(Invitation.objects.values_list("user__username", flat=True))
    assert {"jo.park", "ann@corp.com"} <= invited
    assert office.username not in invited
    assert [m.to for m in mailoutbox] == [["ann@corp.com"]]
    links = re.findall(r'value="http://testserver(/invitations/[^"]+)"', page.content.decode())
    assert len(links) == len(invited) - 1  # everyone but Ann, who was e-mailed
    assert with_mail.username == "ann@corp.com"
    # Again: nobody is left to invite.
    again = client.post(reverse("people_invite_pending"), follow=True)
    assert "already has an invitation" in again.content.decode()


# --- what each role sees of an office's team ---------------------------------------------------


@pytest.fixture
def offices(admin_user):
    """Central: Dana (reps Ava, Ben); East: Sam (rep Cy). Built as the import does."""
    central, east = services.org_unit_create(name="Central"), services.org_unit_create(name="East")
    dana = _named(
        "Dana", "Reyes", role=Role.MANAGER, manager=central, actor=admin_user, in_session=True
    )
    sam = _named(
        "Sam", "Okafor", role=Role.MANAGER, manager=east, actor=admin_user, in_session=True
    )
    people = {
        "central": central,
        "east": east,
        "dana": dana,
        "sam": sam,
        "ava": _named("Ava", "Stone", manager=dana),
        "ben": _named("Ben", "Hart", manager=dana),
        "cy": _named("Cy", "Moss", manager=sam),
    }
    return people


def _seen(viewer: User, people: dict[str, User]) -> set[str]:
    ids = set(visible_users(viewer).values_list("pk", flat=True))
    return {name for name, person in people.items() if person.pk in ids}


def test_a_manager_sees_their_reps_and_an_office_node_its_whole_subtree(offices, executive):
    assert _seen(offices["dana"], offices) == {"dana", "ava", "ben"}
    assert _seen(offices["ava"], offices) == {"ava"}
    assert _seen(offices["central"], offices) == {"central", "dana", "ava", "ben"}
    assert _seen(executive, offices) == set(offices)


def test_the_people_api_shows_a_manager_their_reps_only(offices, api_client_for):
    response = api_client_for(offices["dana"]).get("/api/v1/users/")

    assert response.status_code == 200
    names = {row["username"] for row in response.json()["results"]}
    assert names == {"dana.reyes", "ava.stone", "ben.hart"}
