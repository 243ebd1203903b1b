"""A lost database connection answers 503 with Retry-After and a clear message, never a 500."""

from __future__ import annotations

import logging
from unittest import mock

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import InterfaceError, OperationalError
from django.test import Client

from salesmgmt.api.authentication import ApiTokenAuthentication
from salesmgmt.middleware import UNAVAILABLE_MESSAGE

pytestmark = pytest.mark.django_db

OUTAGE = OperationalError(
    'connection to server at "127.0.0.1", port 5432 failed: Connection refused\n'
    "\tIs the server running on that host and accepting TCP/IP connections?"
)


def assert_clean_503(response) -> str:
    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    body = response.content.decode()
    # No stack trace and no server detail (host, port) leaks into the answer.
    assert "Traceback" not in body
    assert "5432" not in body
    return body


def test_page_view_database_error_gives_503_page(client, rep_a, caplog):
    # given a signed-in rep, and the database going away while the page loads its data
    client.force_login(rep_a)
    with (
        mock.patch("salesmgmt.views.connection.cursor", side_effect=OUTAGE),
        caplog.at_level(logging.ERROR, logger="salesmgmt.middleware"),
    ):
        response = client.get("/healthz/")

    body = assert_clean_503(response)
    assert response["Content-Type"].startswith("text/html")
    assert "Temporarily unavailable" in body
    # and the outage is logged, one line, naming the request
    assert any("GET /healthz/" in r.getMessage() for r in caplog.records)


def test_session_loading_database_error_gives_503(client, rep_a):
    # given a signed-in rep whose session cannot be read (the view asks for request.user)
    client.force_login(rep_a)
    with mock.patch.object(SessionStore, "load", side_effect=OUTAGE):
        response = client.get("/")

    assert "Temporarily unavailable" in assert_clean_503(response)


def test_session_saving_in_middleware_database_error_gives_503(rep_a, settings):
    # given the session saved by SessionMiddleware on the way out (after the view ran), and
    # that save failing: Django turns it into a 500 inside the middleware stack
    settings.SESSION_SAVE_EVERY_REQUEST = True
    client = Client(raise_request_exception=False)
    client.force_login(rep_a)
    with mock.patch.object(SessionStore, "save", side_effect=InterfaceError("connection closed")):
        response = client.get("/")

    assert "Temporarily unavailable" in assert_clean_503(response)


def test_api_view_database_error_gives_json_503(api_client_for, rep_a):
    # given an API client whose token lookup hits a database that went away
    api = api_client_for(rep_a)
    with mock.patch.object(ApiTokenAuthentication, "authenticate", side_effect=OUTAGE):
        response = api.get("/api/v1/accounts/")

    assert_clean_503(response)
    assert response.json() == {
        "detail": UNAVAILABLE_MESSAGE,
        "code": "service_unavailable",
    }


def test_api_session_auth_database_error_gives_json_503(rep_a):
    # given a browser session calling the API, and the session table unreachable
    client = Client(raise_request_exception=False)
    client.force_login(rep_a)
    with mock.patch.object(SessionStore, "load", side_effect=OUTAGE):
        response = client.get("/api/v1/accounts/")

    assert_clean_503(response)
    assert response.json()["code"] == "service_unavailable"


def test_database_back_requests_succeed_again(client, rep_a):
    # given one request that failed on the outage
    client.force_login(rep_a)
    with mock.patch.object(SessionStore, "load", side_effect=OUTAGE):
        assert client.get("/").status_code == 503

    # when the database answers again, the same session is served normally
    response = client.get("/", follow=True)
    assert response.status_code == 200
    assert response.context["user"] == rep_a


def test_other_errors_are_not_masked_as_503(rep_a):
    # a bug is still a 500 (and reported), not an "outage"
    client = Client(raise_request_exception=False)
    client.force_login(rep_a)
    with mock.patch("salesmgmt.views.connection.cursor", side_effect=ValueError("bug")):
        response = client.get("/healthz/")

    assert response.status_code == 500
