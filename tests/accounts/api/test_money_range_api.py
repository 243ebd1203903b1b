"""Accounts and deals take amounts in the one money range only (issue 14, M3 and the minor
"negative annual revenue accepted by the API"): 400 with a field message, nothing written."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from accounts.models import Account, Opportunity
from tests.factories import AccountFactory

HUGE = "99999999999999.99"


@pytest.mark.parametrize("revenue", ["-1", "-0.01", HUGE, "100000000000"])
def test_account_create_refuses_revenue_outside_the_range(api_client_for, rep_a, revenue):
    before = Account.objects.count()

    response = api_client_for(rep_a).post(
        "/api/v1/accounts/", {"name": "Probe", "annual_revenue": revenue}, format="json"
    )

    assert response.status_code == 400
    assert "annual_revenue" in response.json()["fields"]
    assert Account.objects.count() == before


def test_account_edit_refuses_negative_revenue(api_client_for, rep_a):
    account = AccountFactory(owner=rep_a, annual_revenue=5)

    response = api_client_for(rep_a).patch(
        f"/api/v1/accounts/{account.pk}/", {"annual_revenue": "-5"}, format="json"
    )

    assert response.status_code == 400
    assert "annual_revenue" in response.json()["fields"]
    account.refresh_from_db()
    assert account.annual_revenue == 5


def test_the_database_refuses_negative_revenue(rep_a):
    account = AccountFactory(owner=rep_a)

    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(annual_revenue=-1)


@pytest.mark.parametrize("amount", [HUGE, "100000000000.00", "-1"])
def test_deal_create_refuses_amounts_outside_the_range(api_client_for, rep_a, world, amount):
    before = Opportunity.objects.count()
    body = {
        "name": "Probe",
        "account": world["rep_a"]["account"].pk,
        "amount": amount,
        "expected_close_on": "2030-06-30",
    }

    response = api_client_for(rep_a).post("/api/v1/opportunities/", body, format="json")

    assert response.status_code == 400
    assert "amount" in response.json()["fields"]
    assert Opportunity.objects.count() == before
