"""Forecast calls hold only amounts in the one money range (issue 14, M3).

On SQLite a 16-digit call used to be saved and then break every forecast page and list for
everybody (Django cannot read it back). Now the API, the pages and the services refuse it with
a field message and write nothing, and the database refuses it even when the checks are skipped.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from forecasting.models import CallLayer, ForecastCall
from forecasting.services import calls
from salesmgmt.money import MONEY_MAX

PROBE_AMOUNT = "99999999999999.99"  # the probe's 16 digits
JUST_OVER = str(MONEY_MAX + Decimal("0.01"))


@pytest.fixture
def api():
    return APIClient()


def _post_call(api, user, period, amount):
    api.force_authenticate(user)
    body = {"period": period.pk, "commit_amount": amount, "best_case_amount": amount}
    return api.post("/api/v1/forecast-calls/", body, format="json")


@pytest.mark.parametrize("amount", [PROBE_AMOUNT, JUST_OVER, "1e30", "-1"])
def test_api_refuses_a_call_outside_the_money_range_and_saves_nothing(api, rep_a, period, amount):
    response = _post_call(api, rep_a, period, amount)

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"commit_amount", "best_case_amount"}
    assert not ForecastCall.objects.exists()


def test_the_largest_amount_is_accepted_and_every_page_and_list_still_reads(
    api, client, personas, period
):
    response = _post_call(api, personas["rep_a"], period, str(MONEY_MAX))
    assert response.status_code == 201, response.content
    assert _post_call(api, personas["rep_a"], period, PROBE_AMOUNT).status_code == 400

    for name in ("rep_a", "manager_a", "executive", "integrator"):
        api.force_authenticate(personas[name])
        for url in ("/api/v1/forecast-calls/", "/api/v1/forecast-adjustments/", "/api/v1/quotas/"):
            assert api.get(url).status_code == 200, (name, url)
    client.force_login(personas["manager_a"])
    page = client.get(reverse("forecasting:forecast"), {"period": period.pk})
    assert page.status_code == 200
    assert ForecastCall.objects.get().commit_amount == MONEY_MAX


def test_api_refuses_a_manager_adjustment_outside_the_range(api, manager_a, rep_a, period):
    api.force_authenticate(manager_a)
    body = {
        "person": rep_a.pk,
        "period": period.pk,
        "commit_amount": PROBE_AMOUNT,
        "best_case_amount": "1",
        "note": "too big",
    }

    response = api.post("/api/v1/forecast-adjustments/", body, format="json")

    assert response.status_code == 400
    assert "commit_amount" in response.json()["fields"]
    assert not ForecastCall.objects.exists()


def test_call_page_refuses_the_amount_on_the_form(client, rep_a, period):
    client.force_login(rep_a)
    data = {"period": period.pk, "commit_amount": PROBE_AMOUNT, "best_case_amount": PROBE_AMOUNT}

    response = client.post(reverse("forecasting:call_submit"), data)

    assert response.status_code == 400
    assert response.context["call_form"].errors["commit_amount"]
    assert not ForecastCall.objects.exists()


def test_adjust_page_refuses_the_amount_on_the_form(client, manager_a, rep_a, period):
    client.force_login(manager_a)
    data = {
        "period": period.pk,
        "commit_amount": "1",
        "best_case_amount": PROBE_AMOUNT,
        "note": "too big",
    }

    response = client.post(reverse("forecasting:call_adjust", args=[rep_a.pk]), data)

    assert response.status_code == 400
    assert response.context["adjust_form"].errors["best_case_amount"]
    assert not ForecastCall.objects.exists()


@pytest.mark.parametrize("amount", [PROBE_AMOUNT, "1e30", Decimal("Infinity")])
def test_the_service_refuses_amounts_outside_the_range(rep_a, period, amount):
    with pytest.raises(ValidationError) as error:
        calls.call_submit(actor=rep_a, period=period, commit_amount=0, best_case_amount=amount)

    assert "best_case_amount" in error.value.message_dict
    assert not ForecastCall.objects.exists()


def test_the_database_refuses_a_call_outside_the_range_even_without_validation(rep_a, period):
    # given a write that skips the services and full_clean (a bulk load, a shell)
    call = ForecastCall(
        person=rep_a,
        period=period,
        layer=CallLayer.OWNER,
        commit_amount=Decimal(PROBE_AMOUNT),
        best_case_amount=Decimal(PROBE_AMOUNT),
        submitted_by=rep_a,
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        call.save()

    assert not ForecastCall.objects.exists()
