"""Two people edit the same record at once: exactly one wins, the other is told clearly.

Sequential submits carrying the same version/ETag cover the pages and the API; threads on
PostgreSQL (skipped on SQLite, which serializes writers anyway) cover the real race, where
both writes pass the first check before either commits and the row lock decides.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.urls import reverse

from accounts import services
from accounts.models import Account, Contact, Opportunity
from salesmgmt.errors import ConflictError
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory
from tests.fixtures.services import require_postgresql


def edit_form(deal: Opportunity, **changes) -> dict:
    data = {
        "name": deal.name,
        "amount": str(deal.amount),
        "currency": deal.currency,
        "expected_close_on": deal.expected_close_on.isoformat(),
        "forecast_category": deal.forecast_category,
        "next_step": deal.next_step,
        "owner": deal.owner_id,
        "expected_version": deal.version,
    }
    return {**data, **changes}


@pytest.mark.django_db
def test_page_second_submit_of_the_same_version_gets_a_conflict(client, rep_a, manager_a, process):
    # given a deal that the rep and the manager both opened at the same version
    deal = OpportunityFactory(owner=rep_a, process=process, amount=Decimal(1000))
    url = reverse("accounts:opportunity_edit", args=[deal.pk])
    rep_form = edit_form(deal, amount="2000", next_step="Send the proposal")
    manager_form = edit_form(deal, amount="3000", next_step="Call the CFO")

    # when both save
    client.force_login(rep_a)
    first = client.post(url, rep_form)
    client.force_login(manager_a)
    second = client.post(url, manager_form)

    # then the first save wins and the second is refused with a clear message on the page
    assert first.status_code == 302
    assert second.status_code == 409
    page = second.content.decode()
    assert "was changed by someone else" in page
    assert "Your changes are kept below" in page
    deal.refresh_from_db()
    assert (deal.amount, deal.next_step, deal.version) == (Decimal(2000), "Send the proposal", 2)


@pytest.mark.django_db
def test_api_second_patch_with_the_same_etag_gets_412(api_client_for, rep_a, process):
    deal = OpportunityFactory(owner=rep_a, process=process, amount=Decimal(1000))
    api = api_client_for(rep_a)
    etag = api.get(f"/api/v1/opportunities/{deal.pk}/")["ETag"]

    first = api.patch(f"/api/v1/opportunities/{deal.pk}/", {"amount": "2000"}, HTTP_IF_MATCH=etag)
    second = api.patch(f"/api/v1/opportunities/{deal.pk}/", {"amount": "3000"}, HTTP_IF_MATCH=etag)

    assert first.status_code == 200
    assert second.status_code == 412
    assert second.json()["code"] == "precondition_failed"
    assert "changed since you read it" in second.json()["detail"]
    deal.refresh_from_db()
    assert deal.amount == Decimal(2000)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "factory", "field"),
    [
        ("/api/v1/accounts/{pk}/", "account", "industry"),
        ("/api/v1/contacts/{pk}/", "contact", "title"),
    ],
)
def test_api_accounts_and_contacts_second_patch_gets_412(
    api_client_for,
    rep_a,
    path,
    factory,
    field,
):
    account = AccountFactory(owner=rep_a)
    record = account if factory == "account" else ContactFactory(account=account)
    api = api_client_for(rep_a)
    url = path.format(pk=record.pk)
    etag = api.get(url)["ETag"]

    first = api.patch(url, {field: "First"}, HTTP_IF_MATCH=etag)
    second = api.patch(url, {field: "Second"}, HTTP_IF_MATCH=etag)

    assert (first.status_code, second.status_code) == (200, 412)
    record.refresh_from_db()
    assert getattr(record, field) == "First"


def test_service_refuses_a_write_based_on_an_old_read(db, rep_a):
    # the re-check under the lock: the caller read the account before someone else saved it
    account = AccountFactory(owner=rep_a, industry="Energy")
    stale = Account.objects.get(pk=account.pk)
    services.account_update(actor=rep_a, account=account, industry="Retail")

    with pytest.raises(ConflictError, match="changed by someone else"):
        services.account_update(
            actor=rep_a, account=stale, expected_updated_at=stale.updated_at, industry="Mining"
        )
    # and an unconditional write on the stale copy keeps the fields it does not change
    services.account_update(actor=rep_a, account=stale, name="Renamed")
    account.refresh_from_db()
    assert (account.name, account.industry) == ("Renamed", "Retail")


# --- the real race, on PostgreSQL --------------------------------------------------------------


def race(*writes) -> list[object]:
    """Run the writes in threads started together; each result is its return or its error."""
    barrier = threading.Barrier(len(writes))
    results: list[object] = [None] * len(writes)

    def run(index: int, write) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = write()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()  # this thread's connection

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(writes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def slowed(model, seconds: float = 0.3):
    """Widen the window between the check and the commit, as a busy database would."""
    real = model.full_clean

    def full_clean(self, *args, **kwargs):
        threading.Event().wait(seconds)
        return real(self, *args, **kwargs)

    return mock.patch.object(model, "full_clean", full_clean)


@pytest.fixture
def postgres():
    require_postgresql("needs DATABASE_URL pointing at PostgreSQL for concurrent transactions")


@pytest.mark.django_db(transaction=True)
def test_simultaneous_deal_edits_have_one_winner(postgres, rep_a, manager_a, process):
    deal = OpportunityFactory(owner=rep_a, process=process, amount=Decimal(1000))
    version = deal.version

    def edit(actor, amount):
        return lambda: services.opportunity_update(
            actor=actor,
            opportunity=Opportunity.objects.get(pk=deal.pk),
            expected_version=version,
            amount=Decimal(amount),
        )

    with slowed(Opportunity):
        results = race(edit(rep_a, 2000), edit(manager_a, 3000))

    winners = [r for r in results if isinstance(r, Opportunity)]
    losers = [r for r in results if isinstance(r, ConflictError)]
    assert (len(winners), len(losers)) == (1, 1), results
    assert "changed by someone else" in losers[0].message
    deal.refresh_from_db()
    assert (deal.amount, deal.version) == (winners[0].amount, version + 1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("model", [Account, Contact])
def test_simultaneous_account_and_contact_edits_have_one_winner(postgres, rep_a, model):
    account = AccountFactory(owner=rep_a)
    record = account if model is Account else ContactFactory(account=account)
    read = model.objects.get(pk=record.pk)  # both people loaded the same version
    update = services.account_update if model is Account else services.contact_update
    keyword = "account" if model is Account else "contact"
    field = "industry" if model is Account else "title"

    def edit(value):
        return lambda: update(
            actor=rep_a,
            **{keyword: model.objects.get(pk=record.pk)},
            expected_updated_at=read.updated_at,
            **{field: value},
        )

    with slowed(model):
        results = race(edit("First"), edit("Second"))

    winners = [r for r in results if isinstance(r, model)]
    losers = [r for r in results if isinstance(r, ConflictError)]
    assert (len(winners), len(losers)) == (1, 1), results
    record.refresh_from_db()
    assert getattr(record, field) == getattr(winners[0], field)
    assert record.updated_at > read.updated_at
