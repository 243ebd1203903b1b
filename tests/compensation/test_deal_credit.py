"""The deal credit page: splits, cancellation and every pay line a deal produced."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from compensation.models import CreditSplit, DealCancellation
from tests.compensation.test_views import VISIBLE


@pytest.fixture
def deals(paid):
    """The won deals of the paid run: "a" rep_a's add-on, "se" se_a's pilot, "b" rep_b's."""
    return {
        key: paid[key].lines.filter(opportunity__isnull=False).last().opportunity
        for key in ("a", "se", "b")
    }


@pytest.mark.parametrize("who", sorted(VISIBLE))
def test_deal_credit_page_is_404_outside_visibility(client, personas, deals, who):
    client.force_login(personas[who])

    for key, deal in deals.items():
        response = client.get(reverse("compensation:deal_credit", args=[deal.pk]))

        assert response.status_code == (200 if key in VISIBLE[who] else 404), (who, key)


def test_page_shows_the_lines_the_deal_paid(client, rep_a, deals, paid):
    client.force_login(rep_a)

    response = client.get(reverse("compensation:deal_credit", args=[deals["a"].pk]))

    assert [line.pk for line in response.context["credit"].lines] == [
        paid["a"].lines.get(opportunity=deals["a"]).pk
    ]
    assert b"gets 100% of the credit" in response.content
    assert b"Change the split" not in response.content  # reps do not split their own deals


def test_manager_splits_the_credit_on_the_page(client, manager_a, rep_a, se_a, deals):
    client.force_login(manager_a)
    url = reverse("compensation:deal_credit_splits", args=[deals["a"].pk])

    refused = client.post(
        url, {"user_0": rep_a.pk, "percent_0": "60", "user_1": se_a.pk, "percent_1": "30"}
    )
    saved = client.post(
        url, {"user_0": rep_a.pk, "percent_0": "60", "user_1": se_a.pk, "percent_1": "40"}
    )

    assert refused.status_code == 400
    assert b"must add up to 100%" in refused.content
    assert saved.status_code == 302
    assert dict(CreditSplit.objects.values_list("user__username", "percent")) == {
        "rep_a": Decimal(60),
        "se_a": Decimal(40),
    }


def test_rep_cannot_split_their_own_deal(client, rep_a, deals):
    client.force_login(rep_a)

    response = client.post(
        reverse("compensation:deal_credit_splits", args=[deals["a"].pk]),
        {"user_0": rep_a.pk, "percent_0": "100"},
    )

    assert response.status_code == 403
    assert not CreditSplit.objects.exists()


def test_manager_records_a_cancellation_on_the_page(client, manager_a, deals):
    client.force_login(manager_a)
    url = reverse("compensation:deal_cancel", args=[deals["a"].pk])

    early = client.post(url, {"cancelled_on": "2025-01-01", "reason": "Typo"})
    response = client.post(url, {"cancelled_on": "2026-04-10", "reason": "Went bankrupt"})

    assert early.status_code == 400
    assert response.status_code == 302
    assert DealCancellation.objects.get().recorded_by == manager_a


def test_deal_credit_page_query_budget(client, manager_a, deals, django_assert_num_queries):
    client.force_login(manager_a)

    # session, user, deal (visibility), splits, cancellation, lines, split people choices, the
    # bell's unread count
    with django_assert_num_queries(8):
        client.get(reverse("compensation:deal_credit", args=[deals["a"].pk]))
