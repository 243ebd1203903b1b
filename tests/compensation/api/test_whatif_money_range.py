"""The what-if calculator takes deals in the one money range only (issue 14, L1 and M3)."""

from __future__ import annotations

import pytest
from django.urls import reverse

HUGE = "99999999999999.99"  # the probe's deal


@pytest.mark.parametrize("amount", [HUGE, "100000000000.00", "1e30", "0"])
def test_whatif_api_refuses_a_deal_outside_the_range_with_400(
    api_client_for, rep_a, paid, q1, amount
):
    body = {"period": q1.pk, "deals": [{"amount": amount, "closed_on": "2026-03-30"}]}

    response = api_client_for(rep_a).post("/api/v1/compensation/what-if/", body, format="json")

    assert response.status_code == 400
    assert "deals" in response.json()["fields"]


def test_whatif_api_takes_the_largest_deal(api_client_for, rep_a, paid, q1):
    body = {"period": q1.pk, "deals": [{"amount": "99999999999.99", "closed_on": "2026-03-30"}]}

    response = api_client_for(rep_a).post("/api/v1/compensation/what-if/", body, format="json")

    assert response.status_code == 200, response.content


def test_whatif_api_refuses_too_many_deals(api_client_for, rep_a, paid, q1):
    deals = [{"amount": "99999999999.99", "closed_on": "2026-03-30"}] * 101

    response = api_client_for(rep_a).post(
        "/api/v1/compensation/what-if/", {"period": q1.pk, "deals": deals}, format="json"
    )

    assert response.status_code == 400


def test_whatif_page_refuses_a_deal_outside_the_range_on_the_form(client, rep_a, paid, q1):
    client.force_login(rep_a)

    response = client.post(
        reverse("compensation:whatif"),
        {"period": q1.pk, "amount_0": HUGE, "closed_on_0": "2026-03-30"},
    )

    assert response.status_code == 400
    assert response.context["form"].errors["amount_0"]
