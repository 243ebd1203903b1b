"""A users import that knows people by name only (a CRM's sales_teams.csv): managers and
offices become the hierarchy, the same file twice changes nothing, new people are invited."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from salesmgmt.models import AuditEvent, Invitation, Role, User

STRONG = "correct-horse-battery-staple-42"
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "sales_teams.csv"
TYPO, RIGHT = "Grace Whitfeld", "Grace Whitfield"


@pytest.fixture
def sales_teams() -> str:
    return FIXTURE.read_text()


@pytest.fixture
def fixed(sales_teams) -> str:
    """The file once its typo row is corrected."""
    return sales_teams.replace(TYPO, RIGHT)


@pytest.fixture
def mail_off(settings):
    settings.INVITATIONS_SEND_EMAIL = False
    settings.SITE_URL = ""


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Upload as an administrator signed in (roles other than rep need one) and run it."""

    def upload(user, text, dry_run=False):
        client = APIClient()
        client.force_login(user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/api/v1/imports/",
                {"kind": "users", "content": text, "dry_run": dry_run},
                format="json",
            )
        assert response.status_code == 202, response.content
        return client.get(f"/api/v1/imports/{response.json()['id']}/").json()

    return upload


def _expected_teams(text: str) -> dict[str, str]:
    """agent → manager as the file says (names compared without case), read independently."""
    rows = list(csv.DictReader(io.StringIO(text)))
    return {row["sales_agent"]: row["manager"].lower() for row in rows}


def _person(name: str) -> User:
    first, last = name.split(" ", 1)
    return User.objects.get(first_name__iexact=first, last_name__iexact=last, is_org_unit=False)


def test_the_dry_run_names_the_managers_offices_and_typo_it_would_create(
    admin_user, run, sales_teams, mail_off
):
    job = run(admin_user, sales_teams, dry_run=True)

    assert job["status"] == "succeeded", job["errors"]
    assert job["summary"]["created"] == 30
    notices = job["summary"]["notices"]
    # Six managers, one of them spelt twice ("sam okafor"), and the typo as a seventh.
    assert any(
        n.startswith("7 managers named in the file") and '"Sam Okafor"' in n for n in notices
    )
    assert not any('"sam okafor"' in n for n in notices)
    assert any(f'"{TYPO}" (1 row) looks like "{RIGHT}" (5 rows)' in n for n in notices)
    assert any(n.startswith("3 offices will become nodes") for n in notices)
    assert any("37 new people will get a sign-in invitation: 0 by e-mail, 37" in n for n in notices)
    assert not User.objects.filter(is_org_unit=True).exists()
    assert User.objects.count() == 1  # the administrator


def test_managers_report_to_their_office_and_agents_to_their_manager(
    admin_user, run, fixed, mail_off
):
    job = run(admin_user, fixed)

    assert job["status"] == "succeeded", job["errors"]
    assert job["summary"]["created"] == 30
    offices = {u.first_name: u for u in User.objects.filter(is_org_unit=True)}
    assert set(offices) == {"Central", "East", "West"}
    for agent, manager in _expected_teams(fixed).items():
        person = _person(agent)
        assert str(person.manager).lower() == manager
        assert (person.role, person.email, person.has_usable_password()) == (Role.REP, "", False)
    managers = User.objects.filter(role=Role.MANAGER, is_org_unit=False)
    assert Counter(m.manager.first_name for m in managers) == {"Central": 2, "East": 2, "West": 2}
    sam = _person("Sam Okafor")
    assert (sam.username, sam.role) == ("sam.okafor", Role.MANAGER)
    assert sam.ancestor_path == f"/{offices['Central'].pk}/"
    assert _person("Hana Sato").ancestor_path == f"/{offices['Central'].pk}/{sam.pk}/"
    for office in offices.values():
        assert (office.role, office.has_usable_password(), office.manager) == (
            Role.MANAGER,
            False,
            None,
        )


def test_importing_the_same_file_again_creates_nothing(admin_user, run, fixed, mail_off):
    run(admin_user, fixed)
    before = {u.pk: (u.manager_id, u.ancestor_path, u.role) for u in User.objects.all()}
    invitations_before = Invitation.objects.count()

    again = run(admin_user, fixed)

    assert again["status"] == "succeeded", again["errors"]
    assert (again["summary"]["created"], again["summary"]["updated"]) == (0, 30)
    assert "invitations" not in again["summary"]
    assert not any("will be created" in n for n in again["summary"].get("notices", []))
    after = {u.pk: (u.manager_id, u.ancestor_path, u.role) for u in User.objects.all()}
    assert after == before
    assert Invitation.objects.count() == invitations_before


def test_every_new_person_gets_a_link_to_copy_but_the_offices_do_not(
    admin_user, run, fixed, mail_off
):
    job = run(admin_user, fixed)

    invited = job["summary"]["invitations"]
    assert len(invited) == 36  # 30 agents and 6 managers; no office
    assert {item["username"] for item in invited} >= {"hana.sato", "dana.reyes"}
    assert all(item["link"].startswith("http://testserver/invitations/") for item in invited)
    assert all(item["emailed_to"] == "" for item in invited)
    assert not Invitation.objects.filter(user__is_org_unit=True).exists()


def test_the_job_page_lists_the_links_to_copy(admin_user, run, fixed, mail_off, client):
    job = run(admin_user, fixed)
    client.force_login(admin_user)

    page = client.get(f"/imports/{job['id']}/")

    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    body = page.content.decode()
    assert body.count('value="http://testserver/invitations/') == 36
    assert "hana.sato" in body


def test_a_name_matching_two_people_is_a_row_error_that_quotes_it(admin_user, run, mail_off):
    from tests.factories import UserFactory

    UserFactory(first_name="Alex", last_name="Kim", email="alex.kim1@example.com")
    UserFactory(first_name="alex", last_name="KIM", without_email=True)
    text = "name,manager\nJo Park,Alex Kim\nAlex Kim,\n"

    job = run(admin_user, text)

    assert job["status"] == "failed"
    reasons = {(e["row"], e["column"]): e["reason"] for e in job["errors"]}
    assert '"Alex Kim"' in reasons[(3, "name")]
    assert not User.objects.filter(last_name="Park").exists()


def test_an_existing_person_is_matched_by_name_whatever_the_case(admin_user, run, mail_off):
    from tests.factories import UserFactory

    dana = UserFactory(first_name="Dana", last_name="Reyes", without_email=True, role=Role.MANAGER)
    text = "sales_agent,manager,regional_office\nJo Park,DANA REYES,Central\n"

    job = run(admin_user, text)

    assert job["status"] == "succeeded", job["errors"]
    dana.refresh_from_db()
    assert _person("Jo Park").manager == dana
    assert (dana.manager.is_org_unit, dana.manager.first_name) == (True, "Central")
    assert User.objects.filter(first_name="Dana").count() == 1


def test_people_with_and_without_e_mail_mix(admin_user, run, mail_off):
    text = (
        "name,email,manager,office\n"
        "Dana Reyes,dana@corp.com,,East\n"
        "Jo Park,,Dana Reyes,\n"
        "Jo Park,jo.park@corp.com,Dana Reyes,\n"
    )

    job = run(admin_user, text)

    assert job["status"] == "succeeded", job["errors"]
    dana = User.objects.get(email="dana@corp.com")
    assert (dana.role, dana.manager.first_name) == (Role.MANAGER, "East")
    jos = User.objects.filter(first_name="Jo").order_by("pk")
    assert [(j.username, j.email, j.manager) for j in jos] == [
        ("jo.park", "", dana),
        ("jo.park@corp.com", "jo.park@corp.com", dana),
    ]


def test_two_rows_with_the_same_name_and_no_email_are_refused(admin_user, run, mail_off):
    job = run(admin_user, "name\nJo Park\njo  park\n")

    assert job["status"] == "failed"
    assert [(e["row"], e["column"]) for e in job["errors"]] == [(3, "name")]
    assert '"jo park"' in job["errors"][0]["reason"]


def test_an_integration_imports_names_but_cannot_create_managers(
    integrator, api_client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client_for(integrator).post(
            "/api/v1/imports/",
            {"kind": "users", "content": "name,manager\nJo Park,Dana Reyes\n", "dry_run": True},
            format="json",
        )

    assert response.status_code == 202
    job = api_client_for(integrator).get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert job["status"] == "failed"
    assert [(e["row"], e["column"]) for e in job["errors"]] == [(2, "manager")]
    assert '"Dana Reyes" would be a new manager' in job["errors"][0]["reason"]


def test_through_the_pages_an_imported_agent_and_manager_sign_in_and_see_their_own(
    admin_user, fixed, mail_off, client, django_capture_on_commit_callbacks, periods
):
    # Given the file uploaded on the import page, dry run first, then imported for real
    client.force_login(admin_user)
    upload = SimpleUploadedFile("sales_teams.csv", fixed.encode(), "text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        dry = client.post(reverse("imports"), {"kind": "users", "file": upload, "dry_run": "on"})
    assert dry.status_code == 302
    dry_page = client.get(dry["Location"]).content.decode()
    assert "6 managers named in the file" in dry_page
    with django_capture_on_commit_callbacks(execute=True):
        real = client.post(dry["Location"])
    job_page = client.get(real["Location"]).content.decode()
    links = dict(
        re.findall(
            r'value="http://testserver(/invitations/[^"]+)" size="60" '
            r'aria-label="Invitation link for ([^"]+)"',
            job_page,
        )
    )
    by_name = {name: link for link, name in links.items()}
    assert len(by_name) == 36
    client.logout()

    # When an agent and their manager accept their invitations and sign in by username
    for name, username in (("Hana Sato", "hana.sato"), ("Sam Okafor", "sam.okafor")):
        accepted = client.post(by_name[name], {"new_password1": STRONG, "new_password2": STRONG})
        assert accepted.status_code == 302, name
        client.logout()
        signed_in = client.post(reverse("login"), {"username": username, "password": STRONG})
        assert signed_in.status_code == 302, username
        client.logout()

    # Then the manager's team dashboard lists their reps and nobody else's
    client.login(username="sam.okafor", password=STRONG)
    q = periods["FY2026 Q4"]
    team = client.get(reverse("coaching:team_dashboard"), {"period": q.pk}).content.decode()
    sams = [a for a, m in _expected_teams(fixed).items() if m == "sam okafor"]
    assert all(agent in team for agent in sams)
    assert "Aiden Clarke" not in team  # Dana Reyes's rep
    client.logout()
    client.login(username="hana.sato", password=STRONG)
    seen = client.get("/api/v1/users/").json()["results"]
    assert [person["username"] for person in seen] == ["hana.sato"]


def test_a_row_without_name_or_email_is_refused(admin_user, run, mail_off):
    job = run(admin_user, "name,email,office\nJo Park,,East\n,,East\n")

    assert job["status"] == "failed"
    assert [(e["row"], e["column"], e["reason"]) for e in job["errors"]] == [
        (3, "name", "Give the person's name or e-mail.")
    ]


def test_a_rep_named_as_a_manager_is_reported_not_promoted(admin_user, run, mail_off):
    from tests.factories import UserFactory

    UserFactory(first_name="Dana", last_name="Reyes", without_email=True)  # a rep

    job = run(admin_user, "name,manager\nJo Park,Dana Reyes\n")

    assert job["status"] == "succeeded", job["errors"]
    assert any(
        n.startswith("1 of the managers named have the role rep") and '"Dana Reyes"' in n
        for n in job["summary"]["notices"]
    )
    assert _person("Dana Reyes").role == Role.REP
    assert _person("Jo Park").manager == _person("Dana Reyes")


def test_a_managers_own_manager_beats_the_office_and_a_reimport_moves_nobody(
    admin_user, run, mail_off
):
    text = (
        "name,email,manager_email,office\n"
        "Vic Boss,vic@corp.com,,\n"
        "Dana Reyes,dana@corp.com,vic@corp.com,\n"
        "Jo Park,,dana@corp.com,Central\n"
    )

    first = run(admin_user, text)
    moves = AuditEvent.objects.filter(action="user.manager_set").count()
    again = run(admin_user, text)

    assert first["status"] == again["status"] == "succeeded", first["errors"]
    dana = User.objects.get(email="dana@corp.com")
    assert dana.manager == User.objects.get(email="vic@corp.com")
    assert _person("Jo Park").manager == dana
    assert AuditEvent.objects.filter(action="user.manager_set").count() == moves
    # Nobody reports to Central but Jo's manager, who has her own: no empty office is made.
    assert not User.objects.filter(is_org_unit=True).exists()
