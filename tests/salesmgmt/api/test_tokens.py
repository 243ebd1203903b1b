"""API tokens: both header styles, scopes, revocation, the API and the page that manage them."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from salesmgmt import services
from salesmgmt.models import ApiToken


def _client(header: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    return client


@pytest.mark.parametrize("keyword", ["Token", "Bearer", "bearer"])
def test_token_and_bearer_headers_authenticate(rep_a, keyword):
    _, key = services.api_token_create(user=rep_a, name="ci")

    response = _client(f"{keyword} {key}").get("/api/v1/users/me/")

    assert response.status_code == 200
    assert response.json()["id"] == rep_a.pk


@pytest.mark.parametrize("header", ["Token nope", "Bearer", "Token a b", "Token \u00e9"])
def test_bad_tokens_are_401(db, header):
    response = _client(header).get("/api/v1/users/me/")

    assert response.status_code == 401
    assert response.json()["code"] in ("authentication_failed", "not_authenticated")


def test_only_a_hash_of_the_key_is_stored(rep_a):
    token, key = services.api_token_create(user=rep_a, name="ci")

    assert key.startswith("sm_")
    assert key not in (token.key_hash, token.key_prefix)
    assert token.key_hash == services.hash_api_key(key)


def test_revoked_token_stops_working_at_once(rep_a):
    token, key = services.api_token_create(user=rep_a, name="ci")
    client = _client(f"Token {key}")
    assert client.get("/api/v1/users/me/").status_code == 200

    services.api_token_revoke(token=token)

    assert client.get("/api/v1/users/me/").status_code == 401


def test_inactive_users_tokens_stop_working(rep_a):
    _, key = services.api_token_create(user=rep_a, name="ci")
    rep_a.is_active = False
    rep_a.save()

    assert _client(f"Token {key}").get("/api/v1/users/me/").status_code == 401


def test_last_used_is_recorded(rep_a):
    token, key = services.api_token_create(user=rep_a, name="ci")

    _client(f"Token {key}").get("/api/v1/users/me/")

    token.refresh_from_db()
    assert token.last_used_at is not None


def test_read_only_token_reads_but_cannot_write(rep_a, api_client_for):
    client = api_client_for(rep_a, scope=ApiToken.Scope.READ)

    assert client.get("/api/v1/accounts/").status_code == 200
    response = client.post("/api/v1/accounts/", {"name": "Nope"})
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]


def test_tokens_api_creates_shows_the_key_once_and_revokes(rep_a, rep_b, api_client_for):
    client = api_client_for(rep_a)

    created = client.post("/api/v1/tokens/", {"name": "BI", "scope": "read"})
    key = created.json()["key"]
    listed = client.get("/api/v1/tokens/").json()["results"]
    revoke = client.delete(f"/api/v1/tokens/{created.json()['id']}/")

    assert created.status_code == 201
    assert all("key" not in row for row in listed)
    assert revoke.status_code == 204
    assert _client(f"Token {key}").get("/api/v1/users/me/").status_code == 401
    # someone else's token is invisible, so it cannot be revoked either
    other, _ = services.api_token_create(user=rep_b, name="theirs")
    assert client.delete(f"/api/v1/tokens/{other.pk}/").status_code == 404
    other.refresh_from_db()
    assert other.is_active


def test_token_page_shows_a_new_key_once_and_revokes(client, rep_a):
    client.force_login(rep_a)
    url = reverse("api_tokens")

    created = client.post(url, {"name": "Laptop script", "scope": "read_write"})
    token = ApiToken.objects.get(user=rep_a)
    later = client.get(url)
    revoked = client.post(reverse("api_token_revoke", args=[token.pk]), follow=True)

    assert created.status_code == 200
    assert created["Cache-Control"] == "no-store"
    key = created.context["new_key"]
    assert key in created.content.decode()
    assert key not in later.content.decode()
    assert token.key_prefix in later.content.decode()
    assert "revoked" in revoked.content.decode()
    token.refresh_from_db()
    assert not token.is_active


def test_token_page_is_for_people_not_integrators(client, integrator):
    client.force_login(integrator)

    assert client.get(reverse("api_tokens")).status_code == 403


def test_admin_creates_a_token_shows_the_key_once_and_revokes(client, admin_user, integrator):
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:salesmgmt_apitoken_add"),
        {"name": "ERP", "user": integrator.pk, "scope": "read_write"},
    )
    token = ApiToken.objects.get(user=integrator)
    key = response.context["key"]
    revoke = client.post(
        reverse("admin:salesmgmt_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )

    assert _client(f"Token {key}").get("/api/v1/users/me/").status_code == 401
    assert revoke.status_code == 302
    assert token.key_hash == services.hash_api_key(key)
