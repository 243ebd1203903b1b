"""The access sweep for the core resources, which belong to one person only: tokens,
webhook subscriptions and their deliveries, imports. Anyone else gets 404 and changes
nothing, whatever their role. Webhooks belong to an integrator (only admins and integrators
may have them); the rest to a rep."""

from __future__ import annotations

import pytest

from salesmgmt import services, webhooks
from salesmgmt.models import ApiToken, ImportJob, WebhookDelivery, WebhookSubscription

PERSONAS = ["rep_a", "se_a", "rep_b", "manager_a", "manager_b", "executive", "admin", "integrator"]

OPS = {
    "token retrieve": ("get", "/api/v1/tokens/{token}/", None, 200),
    "token revoke": ("delete", "/api/v1/tokens/{token}/", None, 204),
    "webhook retrieve": ("get", "/api/v1/webhooks/{webhook}/", None, 200),
    "webhook patch": ("patch", "/api/v1/webhooks/{webhook}/", {"is_active": False}, 200),
    "webhook delete": ("delete", "/api/v1/webhooks/{webhook}/", None, 204),
    "delivery retrieve": ("get", "/api/v1/webhook-deliveries/{delivery}/", None, 200),
    "delivery redeliver": ("post", "/api/v1/webhook-deliveries/{delivery}/redeliver/", None, 201),
    "import retrieve": ("get", "/api/v1/imports/{job}/", None, 200),
    "import for real": ("post", "/api/v1/imports/{job}/import/", None, 202),
}
LISTS = {
    "tokens": "token",
    "webhooks": "webhook",
    "webhook-deliveries": "delivery",
    "imports": "job",
}


# Who owns each kind of record in this sweep.
OWNERS = {"token": "rep_a", "webhook": "integrator", "delivery": "integrator", "job": "rep_a"}


@pytest.fixture
def owned(rep_a, integrator):
    token, _ = services.api_token_create(user=rep_a, name="mine")
    webhook = webhooks.subscribe(
        owner=integrator, url="https://erp.example.com/hooks", events=["opportunity.won"]
    )
    delivery = WebhookDelivery.objects.create(
        subscription=webhook, event="opportunity.won", payload={}, status="failed"
    )
    job = ImportJob.objects.create(
        kind="accounts", created_by=rep_a, content="name\nA\n", status="succeeded", dry_run=True
    )
    return {"token": token.pk, "webhook": webhook.pk, "delivery": delivery.pk, "job": job.pk}


def snapshot() -> tuple:
    return (
        list(ApiToken.objects.order_by("pk").values_list("pk", "revoked_at")),
        list(WebhookSubscription.objects.order_by("pk").values_list("pk", "is_active")),
        WebhookDelivery.objects.count(),
        ImportJob.objects.count(),
    )


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("op_name", sorted(OPS))
def test_only_the_owner_reaches_their_integration_records(
    personas, owned, api_client_for, op_name, persona
):
    method, url, body, ok = OPS[op_name]
    client = api_client_for(personas[persona])
    before = snapshot()

    response = getattr(client, method)(url.format(**owned), body, format="json")

    record = url.split("{")[1].split("}")[0]
    if persona == OWNERS[record]:
        assert response.status_code == ok, response.content
    else:
        assert response.status_code == 404, response.content
        assert snapshot() == before


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("kind", sorted(LISTS))
def test_lists_only_show_your_own(personas, owned, api_client_for, kind, persona):
    rows = api_client_for(personas[persona]).get(f"/api/v1/{kind}/").json()["results"]

    ids = {row["id"] for row in rows}
    assert (owned[LISTS[kind]] in ids) == (persona == OWNERS[LISTS[kind]])
