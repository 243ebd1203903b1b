"""External ids are unique per record type (accounts, contacts, deals, activities) across the
whole company (blank ones aside): refused with a field message by the services and the API,
enforced by the database (a concurrent duplicate is the same field error, never a 500), and
the key CSV re-imports update by."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from rest_framework.validators import UniqueValidator

from accounts import services
from accounts.models import Account, Activity, Contact, Opportunity
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    OpportunityFactory,
)


def test_an_account_external_id_is_refused_across_teams(rep_a, rep_b):
    services.account_create(actor=rep_a, name="Acme", external_id="CRM-1")

    with pytest.raises(ValidationError) as refused:
        services.account_create(actor=rep_b, name="Acme too", external_id="CRM-1")

    assert refused.value.message_dict == {
        "external_id": ["Another account already has this external id."]
    }
    assert Account.objects.filter(external_id="CRM-1").count() == 1


def test_changing_to_a_taken_external_id_is_refused_and_blank_ids_may_repeat(rep_a, rep_b):
    services.account_create(actor=rep_a, name="Acme", external_id="CRM-1")
    theirs = services.account_create(actor=rep_b, name="Other")
    services.account_create(actor=rep_b, name="Third")  # a second blank id is fine

    with pytest.raises(ValidationError):
        services.account_update(actor=rep_b, account=theirs, external_id="CRM-1")

    theirs.refresh_from_db()
    assert theirs.external_id == ""
    # keeping one's own id on an edit is not a duplicate
    mine = Account.objects.get(external_id="CRM-1")
    services.account_update(actor=rep_a, account=mine, name="Acme Inc", external_id="CRM-1")


def test_a_deal_external_id_is_refused_across_teams(process, rep_a, rep_b):
    def create(owner, external_id):
        return services.opportunity_create(
            actor=owner,
            account=AccountFactory(owner=owner),
            name="Deal",
            amount=Decimal(1),
            expected_close_on=dt.date(2030, 1, 1),
            external_id=external_id,
        )

    create(rep_a, "D-1")
    theirs = create(rep_b, "")

    with pytest.raises(ValidationError) as refused:
        create(rep_b, "D-1")
    with pytest.raises(ValidationError):
        services.opportunity_update(actor=rep_b, opportunity=theirs, external_id="D-1")

    assert "external_id" in refused.value.message_dict
    assert Opportunity.objects.filter(external_id="D-1").count() == 1


def _contact_of(owner, external_id):
    return ContactFactory(account=AccountFactory(owner=owner), external_id=external_id)


@pytest.mark.parametrize("factory", [AccountFactory, OpportunityFactory, ActivityFactory])
def test_the_database_refuses_a_duplicate_but_not_blanks(factory, process, rep_a, rep_b):
    factory(owner=rep_a, external_id="X-1")
    factory(owner=rep_a, external_id="")
    factory(owner=rep_b, external_id="")  # blanks repeat freely

    with pytest.raises(IntegrityError), transaction.atomic():
        factory(owner=rep_b, external_id="X-1")


def test_the_database_refuses_a_duplicate_contact_id_but_not_blanks(rep_a, rep_b):
    _contact_of(rep_a, "C-1")
    _contact_of(rep_a, "")
    _contact_of(rep_b, "")

    with pytest.raises(IntegrityError), transaction.atomic():
        _contact_of(rep_b, "C-1")


def test_contact_and_activity_external_ids_are_refused_across_teams(rep_a, rep_b):
    theirs = AccountFactory(owner=rep_b)
    services.contact_create(
        actor=rep_a, account=AccountFactory(owner=rep_a), first_name="A", last_name="B",
        external_id="C-1",
    )  # fmt: skip
    services.activity_log(
        actor=rep_a, kind=Activity.Kind.CALL, account=AccountFactory(owner=rep_a),
        external_id="X-1",
    )  # fmt: skip
    contact = services.contact_create(actor=rep_b, account=theirs, first_name="C", last_name="D")

    with pytest.raises(ValidationError) as contact_refused:
        services.contact_create(
            actor=rep_b, account=theirs, first_name="E", last_name="F", external_id="C-1"
        )
    with pytest.raises(ValidationError):
        services.contact_update(actor=rep_b, contact=contact, external_id="C-1")
    with pytest.raises(ValidationError) as activity_refused:
        services.activity_log(
            actor=rep_b, kind=Activity.Kind.CALL, account=theirs, external_id="X-1"
        )

    assert contact_refused.value.message_dict == {
        "external_id": ["Another contact already has this external id."]
    }
    assert activity_refused.value.message_dict == {
        "external_id": ["Another activity already has this external id."]
    }
    assert Contact.objects.filter(external_id="C-1").count() == 1
    assert Activity.objects.filter(external_id="X-1").count() == 1


# --- two concurrent creates: both pass the check, the second insert hits the constraint ------


@pytest.fixture
def check_passes_as_in_a_race(monkeypatch):
    """The state two concurrent requests are in: each checked before the other's row was
    committed, so neither the service's check nor ``full_clean`` sees the duplicate; the
    second insert then fails on the unique index (nor does the API serializer's own check)."""
    monkeypatch.setattr(services, "_ensure_unique_external_id", lambda record: None)
    monkeypatch.setattr(UniqueValidator, "__call__", lambda self, value, field: None)
    for model in (Account, Contact, Opportunity, Activity):
        monkeypatch.setattr(model, "validate_constraints", lambda self, exclude=None: None)


def _create(kind, actor, external_id):
    account = AccountFactory(owner=actor)
    if kind == "account":
        return services.account_create(actor=actor, name="Acme", external_id=external_id)
    if kind == "contact":
        return services.contact_create(
            actor=actor, account=account, first_name="A", last_name="B", external_id=external_id
        )
    if kind == "opportunity":
        return services.opportunity_create(
            actor=actor, account=account, name="Deal", amount=Decimal(1),
            expected_close_on=dt.date(2030, 1, 1), external_id=external_id,
        )  # fmt: skip
    return services.activity_log(
        actor=actor, kind=Activity.Kind.CALL, account=account, external_id=external_id
    )


@pytest.mark.usefixtures("check_passes_as_in_a_race")
@pytest.mark.parametrize("kind", ["account", "contact", "opportunity", "activity"])
def test_a_concurrent_duplicate_is_the_field_error_not_an_integrity_error(
    process, rep_a, rep_b, kind
):
    first = _create(kind, rep_a, "RACE-1")

    with pytest.raises(ValidationError) as refused:
        _create(kind, rep_b, "RACE-1")

    assert list(refused.value.message_dict) == ["external_id"]
    assert type(first).objects.filter(external_id="RACE-1").count() == 1


@pytest.mark.usefixtures("check_passes_as_in_a_race")
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/accounts/", {"name": "Copy"}),
        (
            "/api/v1/opportunities/",
            {"name": "Copy", "amount": "1", "expected_close_on": "2030-01-01"},
        ),
    ],
)
def test_the_api_answers_400_on_a_concurrent_duplicate(
    process, rep_a, rep_b, api_client_for, path, body
):
    if "opportunities" in path:
        OpportunityFactory(owner=rep_a, external_id="RACE-1")
        body = {**body, "account": AccountFactory(owner=rep_b).pk}
    else:
        AccountFactory(owner=rep_a, external_id="RACE-1")

    response = api_client_for(rep_b).post(path, {**body, "external_id": "RACE-1"}, format="json")

    assert response.status_code == 400, response.content
    assert "already" in response.json()["fields"]["external_id"][0]


def test_the_api_answers_400_on_external_id(rep_a, rep_b, api_client_for):
    AccountFactory(owner=rep_a, external_id="CRM-1")

    response = api_client_for(rep_b).post(
        "/api/v1/accounts/", {"name": "Copy", "external_id": "CRM-1"}, format="json"
    )

    assert response.status_code == 400
    assert "already" in response.json()["fields"]["external_id"][0]
    assert Account.objects.filter(external_id="CRM-1").count() == 1


def _import(client, text, capture):
    with capture(execute=True):
        response = client.post(
            "/api/v1/imports/",
            {"kind": "accounts", "content": text, "dry_run": False},
            format="json",
        )
    assert response.status_code == 202, response.content
    return client.get(f"/api/v1/imports/{response.json()['id']}/").json()


def test_the_csv_import_updates_by_external_id_and_never_duplicates_it(
    rep_a, rep_b, integrator, api_client_for, django_capture_on_commit_callbacks
):
    acme = AccountFactory(owner=rep_a, name="Acme", external_id="CRM-1")

    # the integrator sees every team: the row updates rep_a's account
    by_integrator = _import(
        api_client_for(integrator),
        "name,external_id\nAcme renamed,CRM-1\n",
        django_capture_on_commit_callbacks,
    )
    # rep_b cannot see it: the row is refused, not a second CRM-1
    by_rep_b = _import(
        api_client_for(rep_b), "name,external_id\nMine,CRM-1\n", django_capture_on_commit_callbacks
    )

    assert by_integrator["status"] == "succeeded"
    assert by_integrator["summary"]["updated"] == 1
    acme.refresh_from_db()
    assert acme.name == "Acme renamed"
    assert by_rep_b["status"] == "failed"
    assert [(e["row"], e["column"]) for e in by_rep_b["errors"]] == [(2, "external_id")]
    assert Account.objects.filter(external_id="CRM-1").count() == 1
