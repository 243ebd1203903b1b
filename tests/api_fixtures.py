"""Fixtures shared by the API tests (imported by tests/*/api/conftest.py)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from salesmgmt import services
from salesmgmt.models import ApiToken
from tests.factories import AccountFactory, ActivityFactory, ContactFactory, OpportunityFactory


@pytest.fixture(autouse=True)
def _api_isolation(settings):
    """Fresh throttle counters per test; webhooks may only ever reach this machine."""
    cache.clear()
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    yield
    cache.clear()


@pytest.fixture
def api_client_for(db):
    """``api_client_for(user, scope="read_write")`` → an APIClient with a fresh token."""

    def make(user, scope: str = ApiToken.Scope.READ_WRITE) -> APIClient:
        _, key = services.create_api_token(user=user, name="test", scope=scope)
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
