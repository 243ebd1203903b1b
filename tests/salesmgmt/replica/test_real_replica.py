"""The read replica against a real PostgreSQL streaming replica (tests/fixtures/replica.py).

The app runs in-process with "default" on a private primary and "replica" on its standby;
each test reads which server answered from the queries each connection ran.
"""

from __future__ import annotations

import logging
import time

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from salesmgmt import db_router, services
from salesmgmt.middleware import PRIMARY_READS_COOKIE
from salesmgmt.models import ApiToken, Role, SalesRole
from tests.factories import AccountFactory, ActivityFactory, UserFactory

pytestmark = pytest.mark.slow
ACTIVITIES = "/api/v1/activities/"


def _touches(queries: CaptureQueriesContext, table: str) -> bool:
    return any(f'"{table}"' in query["sql"] for query in queries.captured_queries)


@pytest.fixture
def rep_world(app_on_replica_cluster, settings):
    """A rep with an account and a logged call, an API client of theirs, all replicated."""
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 60
    settings.DATABASE_REPLICA_CHECK_SECONDS = 0  # every request measures the lag afresh
    manager = UserFactory(role=Role.MANAGER)
    rep = UserFactory(manager=manager, sales_role=SalesRole.AE)
    account = AccountFactory(owner=rep)
    ActivityFactory(owner=rep, account=account)
    _, key = services.api_token_create(
        user=rep, name="replica test", scope=ApiToken.Scope.READ_WRITE
    )
    # A token's first use stamps its last use (then at most once a minute): a write, after
    # which that request reads from the primary. Out of the way before the test.
    assert _client(key).get(ACTIVITIES).status_code == 200
    app_on_replica_cluster.wait_caught_up()
    return {"rep": rep, "account": account, "key": key, "cluster": app_on_replica_cluster}


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


def test_the_replica_is_a_real_standby(app_on_replica_cluster):
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), current_setting('port')::int")
        assert cursor.fetchone() == (True, app_on_replica_cluster.replica_port)
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), current_setting('port')::int")
        assert cursor.fetchone() == (False, app_on_replica_cluster.primary_port)


def test_api_and_dashboard_gets_read_from_the_replica_and_a_post_writes_to_the_primary(
    rep_world, client
):
    rep, client_api = rep_world["rep"], _client(rep_world["key"])
    client.force_login(rep)  # a session row on the primary
    rep_world["cluster"].wait_caught_up()

    with (
        CaptureQueriesContext(connections["replica"]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        listed = client_api.get(ACTIVITIES)
        dashboard = client.get("/my/")
    assert listed.status_code == 200
    assert len(listed.json()["results"]) == 1
    assert dashboard.status_code == 200
    assert _touches(on_replica, "accounts_activity")
    assert _touches(on_replica, "django_session")  # the person's session, read on the replica
    assert not _touches(on_primary, "accounts_activity")

    with (
        CaptureQueriesContext(connections["replica"]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        logged = client_api.post(
            ACTIVITIES, {"kind": "call", "account": rep_world["account"].pk}, format="json"
        )
    assert logged.status_code == 201, logged.json()
    assert on_replica.captured_queries == []
    assert any(
        query["sql"].startswith('INSERT INTO "accounts_activity"')
        for query in on_primary.captured_queries
    )
    assert PRIMARY_READS_COOKIE in logged.cookies


def test_a_rep_who_logs_a_call_sees_it_at_once_while_the_replica_lags(rep_world, settings):
    cluster = rep_world["cluster"]
    rep_client, other_client = _client(rep_world["key"]), _client(rep_world["key"])

    with cluster.replay_paused():
        # When the rep logs a call, which the replica does not apply yet
        logged = rep_client.post(
            ACTIVITIES, {"kind": "call", "account": rep_world["account"].pk}, format="json"
        )
        assert logged.status_code == 201, logged.json()
        new_id = logged.json()["id"]

        # Then the rep's next GET (within the sticky window) reads the primary and shows it
        with CaptureQueriesContext(connections["replica"]) as on_replica:
            seen_by_rep = rep_client.get(ACTIVITIES)
        assert new_id in _ids(seen_by_rep)
        assert on_replica.captured_queries == []

        # while a client without the cookie, within the lag limit, reads the stale replica
        with CaptureQueriesContext(connections["replica"]) as on_replica:
            stale = other_client.get(ACTIVITIES)
        assert new_id not in _ids(stale)
        assert _touches(on_replica, "accounts_activity")

        # and once the replica is further behind than the limit, it reads the primary.
        settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 0.5
        time.sleep(0.6)
        with CaptureQueriesContext(connections["replica"]) as on_replica:
            fresh = other_client.get(ACTIVITIES)
        assert new_id in _ids(fresh)
        assert not _touches(on_replica, "accounts_activity")
        assert db_router.replica_health().lag_seconds > 0.5

    cluster.wait_caught_up()
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        caught_up = other_client.get(ACTIVITIES)
    assert new_id in _ids(caught_up)
    assert _touches(on_replica, "accounts_activity")


def test_a_stopped_replica_leaves_reads_on_the_primary_with_200s(rep_world, settings, caplog):
    cluster, api = rep_world["cluster"], _client(rep_world["key"])
    settings.DATABASE_REPLICA_CHECK_SECONDS = 600  # the last check ("usable") is remembered
    assert api.get(ACTIVITIES).status_code == 200
    assert db_router.replica_health().usable

    cluster.stop_replica()
    try:
        with caplog.at_level(logging.WARNING, logger="salesmgmt"):
            # The remembered check sends the read to the replica: it fails, the primary answers
            with CaptureQueriesContext(connections["default"]) as on_primary:
                during = api.get(ACTIVITIES)
            assert during.status_code == 200
            assert len(during.json()["results"]) == 1
            assert _touches(on_primary, "accounts_activity")
            assert "Read replica failed during GET /api/v1/activities/" in caplog.text

            # and the next requests go straight to the primary, without trying the replica.
            for _ in range(3):
                assert api.get(ACTIVITIES).status_code == 200
            assert "Read replica unreachable, reading from the primary" in caplog.text
            assert not db_router.replica_health().usable
            assert "Database unavailable" not in caplog.text
    finally:
        cluster.start_replica()

    db_router.forget_replica_health()
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        assert api.get(ACTIVITIES).status_code == 200
    assert _touches(on_replica, "accounts_activity")
