"""Query budgets of the core lists: the same for 10 rows as for 100."""

from __future__ import annotations

import pytest

from salesmgmt import services
from salesmgmt.models import ImportJob, WebhookDelivery, WebhookSubscription
from tests.factories import UserFactory

# As the manager through a token, after a warm-up call: 1 the token with its user,
# 2 COUNT(*), 3 the page (related rows joined). Users of a subtree are one indexed LIKE.
BUDGET = 3


def _make_rows(kind: str, n: int, manager) -> None:
    if kind == "users":
        UserFactory.create_batch(n, manager=manager)
    elif kind == "tokens":
        for i in range(n):
            services.api_token_create(user=manager, name=f"t{i}")
    # Rows as they may exist from before only admins and integrators could subscribe.
    elif kind == "webhooks":
        WebhookSubscription.objects.bulk_create(
            WebhookSubscription(
                owner=manager, url=f"http://127.0.0.1:9/{i}", secret="x", events=["x"]
            )
            for i in range(n)
        )
    elif kind == "webhook-deliveries":
        sub = WebhookSubscription.objects.create(
            owner=manager, url="http://127.0.0.1:9/", secret="x", events=["x"]
        )
        WebhookDelivery.objects.bulk_create(
            WebhookDelivery(subscription=sub, event="opportunity.won", payload={"n": i})
            for i in range(n)
        )
    elif kind == "imports":
        ImportJob.objects.bulk_create(
            ImportJob(kind="accounts", created_by=manager, content="name\nx\n") for _ in range(n)
        )


@pytest.mark.parametrize("rows", [10, 100])
@pytest.mark.parametrize("kind", ["users", "tokens", "webhooks", "webhook-deliveries", "imports"])
def test_core_list_query_count_does_not_grow_with_rows(
    kind, rows, manager_a, api_client_for, django_assert_max_num_queries
):
    _make_rows(kind, rows, manager_a)
    client = api_client_for(manager_a)
    url = f"/api/v1/{kind}/?page_size=100&expand=manager"
    client.get(url)

    with django_assert_max_num_queries(BUDGET):
        response = client.get(url)

    assert response.status_code == 200
    assert len(response.json()["results"]) >= min(rows, 100)
