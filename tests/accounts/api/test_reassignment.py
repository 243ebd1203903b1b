"""Who may give a deal or an account to someone else (salesmgmt.visibility.may_reassign):
the owner's managers, executives, admins and integrators; never the owner nor the deal team.

The scene crosses teams, as the probe did: rep_b's deal on rep_b's account has se_a (team A)
on its deal team, so se_a and manager_a see both records without managing their owner.
Every path is checked: the services, the API, the deal page, the CSV import, the admin.
"""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import services
from accounts.admin import AccountAdmin
from accounts.models import Account, Opportunity, OpportunityChange, OpportunityTeamMember
from compensation.models import CreditSplit
from csv_import.jobs import create_import_job
from salesmgmt.errors import PermissionDeniedError
from salesmgmt.models import ImportJob
from tests.accounts.test_views import edit_data
from tests.factories import AccountFactory, UserFactory, complete_closing_milestones


@pytest.fixture
def rep_b2(manager_b):
    """rep_b's teammate: the owner may not hand the deal even to them."""
    return UserFactory(username="rep_b2", manager=manager_b)


@pytest.fixture
def scene(process, rep_b, se_a):
    account = AccountFactory(owner=rep_b, name="Bravo Corp", external_id="ACC-B")
    deal = services.opportunity_create(
        actor=rep_b,
        account=account,
        name="Bravo rollout",
        amount=Decimal("50000"),
        expected_close_on=dt.date(2030, 3, 31),
        external_id="D-B",
    )
    OpportunityTeamMember.objects.create(opportunity=deal, user=se_a, team_role="SE")
    return SimpleNamespace(account=account, deal=deal)


def _owner_moves(deal: Opportunity) -> int:
    return (
        OpportunityChange.objects.filter(opportunity=deal, field="owner")
        .exclude(old_value="")
        .count()
    )


def _assert_nothing_moved(scene, rep_b, api_client_for) -> None:
    """The real owner still has (and sees) both records; no credit moved with them."""
    scene.deal.refresh_from_db()
    scene.account.refresh_from_db()
    assert (scene.deal.owner, scene.account.owner) == (rep_b, rep_b)
    assert _owner_moves(scene.deal) == 0
    # A deal's commission credit is its owner's at 100 % unless splits say otherwise.
    assert not CreditSplit.objects.filter(opportunity=scene.deal).exists()
    owner = api_client_for(rep_b)
    assert owner.get(f"/api/v1/opportunities/{scene.deal.pk}/").status_code == 200
    assert owner.get(f"/api/v1/accounts/{scene.account.pk}/").status_code == 200


# (actor, new owner, expected status). rep_b names a teammate they cannot see (the owner field
# only parses people the caller sees: 400); rep_a sees neither record (404).
REFUSED = [
    ("rep_b", "rep_b2", 400),
    ("se_a", "se_a", 403),
    ("rep_a", "rep_a", 404),
    ("manager_a", "se_a", 403),
]
ALLOWED = [
    ("manager_b", "rep_b2"),
    ("executive", "rep_a"),
    ("admin", "rep_a"),
    ("integrator", "rep_a"),
]


# --- the API ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("actor", "target", "status"), REFUSED)
@pytest.mark.parametrize("kind", ["opportunities", "accounts"])
def test_api_refuses_reassignment_by_owner_team_and_other_teams(
    api_client_for, personas, rep_b, rep_b2, scene, kind, actor, target, status
):
    people = {**personas, "rep_b2": rep_b2}
    record = scene.deal if kind == "opportunities" else scene.account

    response = api_client_for(people[actor]).patch(
        f"/api/v1/{kind}/{record.pk}/", {"owner": people[target].pk}, format="json"
    )

    assert response.status_code == status, response.content
    _assert_nothing_moved(scene, rep_b, api_client_for)


@pytest.mark.parametrize(("actor", "target"), ALLOWED)
@pytest.mark.parametrize("kind", ["opportunities", "accounts"])
def test_api_lets_the_owners_managers_executives_admins_and_integrators_reassign(
    api_client_for, personas, rep_b2, scene, kind, actor, target
):
    people = {**personas, "rep_b2": rep_b2}
    record = scene.deal if kind == "opportunities" else scene.account

    response = api_client_for(people[actor]).patch(
        f"/api/v1/{kind}/{record.pk}/", {"owner": people[target].pk}, format="json"
    )

    assert response.status_code == 200, response.content
    record.refresh_from_db()
    assert record.owner == people[target]


def test_api_refusal_says_why(api_client_for, se_a, scene):
    response = api_client_for(se_a).patch(
        f"/api/v1/opportunities/{scene.deal.pk}/", {"owner": se_a.pk}, format="json"
    )

    assert response.status_code == 403
    assert "Only the owner's managers" in response.json()["detail"]


def test_team_members_keep_editing_the_other_fields(api_client_for, se_a, rep_b, scene):
    response = api_client_for(se_a).patch(
        f"/api/v1/opportunities/{scene.deal.pk}/",
        {"next_step": "Technical deep dive"},
        format="json",
    )

    assert response.status_code == 200, response.content
    scene.deal.refresh_from_db()
    assert (scene.deal.next_step, scene.deal.owner) == ("Technical deep dive", rep_b)


@pytest.mark.parametrize("kind", ["opportunities", "accounts"])
def test_team_members_may_send_back_the_unchanged_owner(
    api_client_for, se_a, rep_b, rep_b2, scene, kind
):
    # se_a cannot see rep_b (another team), yet the owner a GET showed is sent back as is.
    record = scene.deal if kind == "opportunities" else scene.account
    client = api_client_for(se_a)
    change = {"next_step": "POC"} if kind == "opportunities" else {"industry": "Retail"}

    unchanged = client.patch(
        f"/api/v1/{kind}/{record.pk}/", {"owner": rep_b.pk, **change}, format="json"
    )
    other = client.patch(f"/api/v1/{kind}/{record.pk}/", {"owner": rep_b2.pk}, format="json")

    assert unchanged.status_code == 200, unchanged.content
    assert unchanged.json()["owner"]["id"] == rep_b.pk
    record.refresh_from_db()
    assert record.owner == rep_b
    assert getattr(record, next(iter(change))) == next(iter(change.values()))
    assert other.status_code == 400
    assert "owner" in other.json()["fields"]
    _assert_nothing_moved(scene, rep_b, api_client_for)


def test_a_won_deals_credit_stays_with_its_owner(api_client_for, se_a, rep_b, scene):
    complete_closing_milestones(scene.deal)
    services.opportunity_close_won(
        actor=rep_b, opportunity=scene.deal, closed_on=dt.date(2030, 1, 15)
    )

    response = api_client_for(se_a).patch(
        f"/api/v1/opportunities/{scene.deal.pk}/", {"owner": se_a.pk}, format="json"
    )

    assert response.status_code == 403
    _assert_nothing_moved(scene, rep_b, api_client_for)
    assert Opportunity.objects.get(pk=scene.deal.pk).status == Opportunity.Status.WON


# --- the services (every interface ends here) -------------------------------------------------


def test_service_refuses_the_owner_even_towards_a_teammate(rep_b, rep_b2, scene):
    with pytest.raises(PermissionDeniedError):
        services.opportunity_update(actor=rep_b, opportunity=scene.deal, owner=rep_b2)
    with pytest.raises(PermissionDeniedError):
        services.account_update(actor=rep_b, account=scene.account, owner=rep_b2)


def test_a_rep_creates_records_only_for_themselves(process, rep_a, se_a):
    account = services.account_create(actor=rep_a, name="Mine")

    with pytest.raises(ValidationError) as on_account:
        services.account_create(actor=rep_a, name="For se_a", owner=se_a)
    with pytest.raises(ValidationError) as on_deal:
        services.opportunity_create(
            actor=rep_a,
            account=account,
            owner=se_a,
            name="For se_a",
            amount=Decimal(1),
            expected_close_on=dt.date(2030, 1, 1),
        )

    assert "owner" in on_account.value.message_dict
    assert "owner" in on_deal.value.message_dict
    assert not Account.objects.filter(owner=se_a).exists()


def test_managers_and_integrators_create_for_people_they_see(process, manager_a, integrator, rep_a):
    by_manager = services.account_create(actor=manager_a, name="For rep_a", owner=rep_a)
    by_sync = services.opportunity_create(
        actor=integrator,
        account=by_manager,
        owner=rep_a,
        name="Synced",
        amount=Decimal(1),
        expected_close_on=dt.date(2030, 1, 1),
    )

    assert (by_manager.owner, by_sync.owner) == (rep_a, rep_a)


# --- the deal page ----------------------------------------------------------------------------


def test_the_page_offers_the_owner_only_to_those_who_may_reassign(client, se_a, manager_b, scene):
    url = reverse("accounts:opportunity_detail", args=[scene.deal.pk])

    client.force_login(se_a)
    as_team_member = client.get(url)
    client.force_login(manager_b)
    as_owners_manager = client.get(url)

    assert as_team_member.status_code == 200
    assert '<select name="owner"' not in as_team_member.text
    assert '<select name="owner"' in as_owners_manager.text


def test_the_page_refuses_a_posted_owner_and_keeps_other_edits(
    client, se_a, rep_b, scene, api_client_for
):
    client.force_login(se_a)
    url = reverse("accounts:opportunity_edit", args=[scene.deal.pk])

    taken = client.post(url, edit_data(scene.deal, owner=se_a.pk))
    _assert_nothing_moved(scene, rep_b, api_client_for)
    edited = client.post(url, edit_data(scene.deal, next_step="Demo"))

    assert taken.status_code == 403
    # Unescaped: the page's forms render with Jinja2, which writes ' as &#39; (Django: &#x27;).
    assert "Only the owner's managers" in html.unescape(taken.text)
    assert edited.status_code == 302
    scene.deal.refresh_from_db()
    assert (scene.deal.next_step, scene.deal.owner) == ("Demo", rep_b)


def test_the_owners_manager_reassigns_on_the_page(client, manager_b, rep_b2, scene):
    client.force_login(manager_b)

    response = client.post(
        reverse("accounts:opportunity_edit", args=[scene.deal.pk]),
        edit_data(scene.deal, owner=rep_b2.pk),
    )

    assert response.status_code == 302
    scene.deal.refresh_from_db()
    assert scene.deal.owner == rep_b2
    assert _owner_moves(scene.deal) == 1


# --- the CSV import ---------------------------------------------------------------------------


def _import(actor, kind, text, django_capture_on_commit_callbacks) -> ImportJob:
    with django_capture_on_commit_callbacks(execute=True):
        job = create_import_job(actor=actor, kind=kind, content=text, dry_run=False)
    return ImportJob.objects.get(pk=job.pk)


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("accounts", "name,owner_email,external_id\nBravo Corp,se_a@example.com,ACC-B\n"),
        (
            "opportunities",
            "name,account_external_id,owner_email,amount,expected_close_on,external_id\n"
            "Bravo rollout,ACC-B,se_a@example.com,50000,2030-03-31,D-B\n",
        ),
    ],
)
def test_import_refuses_reassignment_by_a_team_member_per_row(
    se_a, rep_b, scene, api_client_for, django_capture_on_commit_callbacks, kind, text
):
    job = _import(se_a, kind, text, django_capture_on_commit_callbacks)

    assert job.status == ImportJob.Status.FAILED
    assert [(e["row"], e["column"]) for e in job.errors] == [(2, "owner_email")]
    assert "Only the owner's managers" in job.errors[0]["reason"]
    _assert_nothing_moved(scene, rep_b, api_client_for)


def test_import_by_the_sales_ops_integration_reassigns(
    integrator, rep_a, scene, django_capture_on_commit_callbacks
):
    text = "name,owner_email,external_id\nBravo Corp,rep_a@example.com,ACC-B\n"

    job = _import(integrator, "accounts", text, django_capture_on_commit_callbacks)

    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    scene.account.refresh_from_db()
    assert scene.account.owner == rep_a


# --- the admin --------------------------------------------------------------------------------


def test_admin_account_edits_go_through_the_policy(rf, manager_a, admin_user, rep_a, scene):
    model_admin = AccountAdmin(Account, admin.site)
    form = SimpleNamespace(cleaned_data={"owner": rep_a}, changed_data=["owner"])
    as_staff_manager, as_admin = rf.post("/"), rf.post("/")
    as_staff_manager.user, as_admin.user = manager_a, admin_user

    assert "owner" in model_admin.get_readonly_fields(as_staff_manager, scene.account)
    assert "owner" not in model_admin.get_readonly_fields(as_admin, scene.account)
    with pytest.raises(PermissionDeniedError):
        model_admin.save_model(as_staff_manager, scene.account, form, change=True)
    model_admin.save_model(as_admin, scene.account, form, change=True)

    scene.account.refresh_from_db()
    assert scene.account.owner == rep_a


def _admin_account_post(client, account, owner):
    data = {
        "name": account.name,
        "industry": "",
        "region": "",
        "country": "",
        "state": "",
        "owner": owner.pk,
        "external_id": account.external_id,
        "contacts-TOTAL_FORMS": "0",
        "contacts-INITIAL_FORMS": "0",
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "1000",
    }
    return client.post(reverse("admin:accounts_account_change", args=[account.pk]), data)


def test_admin_form_shows_a_refused_owner_as_a_field_error(client, admin_user, rep_a, scene):
    inactive = UserFactory(username="gone", is_active=False)
    client.force_login(admin_user)

    refused = _admin_account_post(client, scene.account, inactive)
    moved = _admin_account_post(client, scene.account, rep_a)

    assert refused.status_code == 200
    assert "is not an active seller" in refused.text
    assert moved.status_code == 302
    scene.account.refresh_from_db()
    assert scene.account.owner == rep_a
