"""Fixtures shared by the API tests (imported by tests/*/api/conftest.py)."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from salesmgmt import services, webhook_destinations
from salesmgmt.models import ApiToken
from tests.factories import AccountFactory, ActivityFactory, ContactFactory, OpportunityFactory

# Name lookups of webhook hosts in tests: never the network. IP literals and "localhost" resolve
# for real (no traffic); the names here resolve as listed; anything else does not resolve.
# The public address is never contacted: tests that deliver use local receivers.
TEST_DNS: dict[str, list[str]] = {"erp.example.com": ["93.184.215.14"]}


def offline_getaddrinfo(host, port, *args, **kwargs):
    """``socket.getaddrinfo`` answering from ``TEST_DNS`` instead of the network."""
    try:
        ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        if host == "localhost":
            return socket.getaddrinfo(host, port, *args, **kwargs)
        if host not in TEST_DNS:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in TEST_DNS[host]
        ]
    return socket.getaddrinfo(host, port, *args, **kwargs)


@pytest.fixture(autouse=True)
def _api_isolation(settings, monkeypatch):
    """Fresh throttle counters per test; webhooks refuse internal addresses as in production
    (tests with a local receiver allow loopback themselves) and look names up offline."""
    cache.clear()
    settings.WEBHOOK_ALLOWED_HOSTS = []
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    monkeypatch.setattr(webhook_destinations, "getaddrinfo", offline_getaddrinfo)
    yield
    cache.clear()


@pytest.fixture
def api_client_for(db):
    """``api_client_for(user, scope="read_write")`` → an APIClient with a fresh token."""

    def make(user, scope: str = ApiToken.Scope.READ_WRITE) -> APIClient:
        _, key = services.api_token_create(user=user, name="test", scope=scope)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return make


@pytest.fixture
def world(personas, process):
    """One account, contact, deal and activity owned by each seller (as in test_visibility)."""
    owned = {}
    for name in ("rep_a", "se_a", "rep_b", "manager_a"):
        owner = personas[name]
        account = AccountFactory(owner=owner, name=f"{name} account", external_id=f"acc-{name}")
        owned[name] = {
            "account": account,
            "contact": ContactFactory(account=account),
            "deal": OpportunityFactory(
                owner=owner, account=account, process=process, name=f"{name} deal"
            ),
            "activity": ActivityFactory(owner=owner, account=account),
        }
    return owned
