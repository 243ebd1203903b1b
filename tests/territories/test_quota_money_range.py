"""Quotas hold only amounts in the one money range (issue 14, M3): API, page, service, database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from salesmgmt.money import MONEY_MAX
from territories import services
from territories.models import Quota, QuotaChange
from tests.territories.factories import QuotaFactory

HUGE = "99999999999999.99"


@pytest.fixture
def quota(rep_a, q1):
    return QuotaFactory(user=rep_a, period=q1, territory_quota=Decimal(1000), amount=Decimal(1000))


@pytest.fixture
def api_as(db):
    def make(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def _unchanged(quota) -> bool:
    fresh = Quota.objects.get(pk=quota.pk)
    return (fresh.amount, fresh.version) == (quota.amount, quota.version) and not (
        QuotaChange.objects.exists()
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", HUGE),
        ("amount", "-1"),
        ("territory_quota", HUGE),
        ("manager_adjustment", HUGE),
        ("manager_adjustment", f"-{HUGE}"),
    ],
)
def test_quota_api_refuses_amounts_outside_the_range(api_as, manager_a, quota, field, value):
    client = api_as(manager_a)

    response = client.patch(f"/api/v1/quotas/{quota.pk}/", {field: value, "reason": "probe"})

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert _unchanged(quota)


def test_a_negative_manager_adjustment_inside_the_range_is_a_delta(api_as, manager_a, quota):
    client = api_as(manager_a)

    response = client.patch(
        f"/api/v1/quotas/{quota.pk}/", {"manager_adjustment": "-250", "reason": "Smaller patch"}
    )

    assert response.status_code == 200, response.content
    assert response.json()["amount"] == "750.00"


def test_quota_page_refuses_the_amount_on_the_form(client, manager_a, rep_a, q1, quota):
    client.force_login(manager_a)
    url = reverse("territories:quota_edit", args=[q1.pk, rep_a.pk])

    response = client.post(
        url, {"basis": "explicit", "amount": HUGE, "reason": "probe", "version": quota.version}
    )

    assert response.status_code == 400  # a refused form is a 4xx, as on every page
    assert response.context["form"].errors["amount"]
    assert _unchanged(quota)
    assert client.get(reverse("territories:quota_plan"), {"period": q1.pk}).status_code == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [("amount", HUGE), ("territory_quota", "1e30"), ("manager_adjustment", f"-{HUGE}")],
)
def test_the_service_refuses_amounts_outside_the_range(manager_a, rep_a, q1, quota, field, value):
    with pytest.raises(ValidationError) as error:
        services.quota_update(
            actor=manager_a, person=rep_a, period=q1, reason="x", **{field: value}
        )

    assert field in error.value.message_dict
    assert _unchanged(quota)


def test_the_database_refuses_a_quota_outside_the_range(quota):
    with pytest.raises(IntegrityError), transaction.atomic():
        Quota.objects.filter(pk=quota.pk).update(amount=MONEY_MAX + 1)

    assert Quota.objects.get(pk=quota.pk).amount == Decimal(1000)


def test_quota_page_refuses_a_huge_version_on_the_form(client, manager_a, rep_a, q1, quota):
    client.force_login(manager_a)
    url = reverse("territories:quota_edit", args=[q1.pk, rep_a.pk])

    response = client.post(
        url, {"basis": "explicit", "amount": "5", "reason": "probe", "version": str(10**30)}
    )

    assert response.context["form"].errors["version"]
    assert _unchanged(quota)
