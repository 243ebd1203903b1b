"""Rate limits per token and per anonymous IP: 429 with Retry-After."""

from __future__ import annotations

import copy

import pytest
from django.conf import settings
from rest_framework.test import APIClient


@pytest.fixture
def tight_rates(settings):
    rest = copy.deepcopy(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {"token": "3/min", "anon": "2/min"}
    settings.REST_FRAMEWORK = rest


def test_each_token_has_its_own_budget(tight_rates, rep_a, api_client_for):
    first, second = api_client_for(rep_a), api_client_for(rep_a)

    statuses = [first.get("/api/v1/users/me/").status_code for _ in range(4)]
    other = second.get("/api/v1/users/me/")

    assert statuses == [200, 200, 200, 429]
    assert other.status_code == 200


def test_429_says_when_to_retry(tight_rates, rep_a, api_client_for):
    client = api_client_for(rep_a)
    for _ in range(3):
        client.get("/api/v1/users/me/")

    response = client.get("/api/v1/users/me/")

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert response.json()["code"] == "throttled"


def test_anonymous_calls_are_limited_per_ip(tight_rates, db):
    # The public endpoints (docs, schema) are what anonymous callers can reach.
    client = APIClient()

    statuses = [client.get("/api/docs/", REMOTE_ADDR="10.0.0.1").status_code for _ in range(3)]
    elsewhere = client.get("/api/docs/", REMOTE_ADDR="10.0.0.2")

    assert statuses == [200, 200, 429]
    assert elsewhere.status_code == 200


def test_default_rates_come_from_the_environment():
    assert set(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]) == {"token", "anon"}
