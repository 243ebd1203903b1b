"""The admin: every compensation model is listed; audited writes go through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from compensation.models import CreditSplit, DealCancellation, StatementAdjustment
from tests.compensation.factories import won_deal

MODELS = [
    "plan", "plancomponent", "planassignment", "creditsplit", "dealcancellation", "payoutrun",
    "statement", "statementadjustment", "dispute",
]  # fmt: skip


@pytest.mark.parametrize("model", MODELS)
def test_changelists_load(admin_client, paid, model):
    assert admin_client.get(reverse(f"admin:compensation_{model}_changelist")).status_code == 200


def test_statement_change_page_shows_lines(admin_client, paid):
    url = reverse("admin:compensation_statement_change", args=[paid["a"].pk])

    assert b"5,000.00 at 8%" in admin_client.get(url).content


def test_adjustment_added_in_the_admin_goes_through_the_service(admin_client, admin_user, paid):
    url = reverse("admin:compensation_statementadjustment_add")

    # not locked yet: refused with the service's message, nothing written
    refused = admin_client.post(
        url, {"statement": paid["a"].pk, "amount": "10", "reason": "x"}, follow=True
    )
    assert b"Only a locked statement" in refused.content
    assert not StatementAdjustment.objects.exists()

    admin_client.post(
        reverse("admin:compensation_statement_changelist"),
        {"action": "approve", "_selected_action": [paid["a"].pk]},
    )
    admin_client.post(url, {"statement": paid["a"].pk, "amount": "10", "reason": "Bonus fix"})

    assert StatementAdjustment.objects.get().created_by == admin_user


def test_credit_split_and_cancellation_in_the_admin(admin_client, process, rep_a, se_a):
    deal = won_deal(rep_a, "1000", dt.date(2026, 2, 1))

    admin_client.post(
        reverse("admin:compensation_creditsplit_add"),
        {"opportunity": deal.pk, "shares": f"{rep_a.username}:70, {se_a.username}:30"},
    )
    admin_client.post(
        reverse("admin:compensation_dealcancellation_add"),
        {"opportunity": deal.pk, "cancelled_on": "2026-02-10", "reason": "Churned"},
    )

    assert sorted(CreditSplit.objects.values_list("percent", flat=True)) == [
        Decimal(30),
        Decimal(70),
    ]
    assert DealCancellation.objects.get().recorded_by.username == "admin"
