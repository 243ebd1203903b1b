"""The read-replica routing decisions (salesmgmt.db_router, ReplicaReadsMiddleware).

Against a "replica" alias that mirrors the test database (conftest.py); the probe views
(urls.py) answer where their reads went. tests/salesmgmt/replica/test_real_replica.py does
the same against a real streaming replica.
"""

from __future__ import annotations

import logging
import types

import pytest
from django.core import signing
from django.db import connection

from salesmgmt import db_router
from salesmgmt.celery import app as celery_app
from salesmgmt.db_router import PrimaryReplicaRouter, reads_from_replica, replica_usable
from salesmgmt.middleware import PRIMARY_READS_COOKIE
from salesmgmt.models import User
from salesmgmt.settings.databases import replica_database

pytestmark = pytest.mark.django_db


def test_get_reads_from_replica_but_locks_and_transactions_from_primary(client, replica_alias):
    response = client.get("/reads/")

    assert response.status_code == 200
    assert response.json() == {"read": "replica", "in_atomic": "default", "locked": "default"}
    assert PRIMARY_READS_COOKIE not in response.cookies


def test_head_reads_from_replica(client, replica_alias):
    # HEAD has no body to show it: the replica is asked for its lag, so it was considered.
    response = client.head("/reads/")

    assert response.status_code == 200
    assert db_router.replica_health().usable


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_unsafe_methods_read_from_primary_and_set_the_sticky_cookie(
    client, replica_alias, settings, method
):
    settings.DATABASE_REPLICA_STICKY_SECONDS = 7

    response = getattr(client, method)("/reads/")

    assert response.json()["read"] == "default"
    cookie = response.cookies[PRIMARY_READS_COOKIE]
    assert cookie["max-age"] == 7
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_options_reads_from_primary_without_the_sticky_cookie(client, replica_alias):
    response = client.options("/reads/")

    assert response.json()["read"] == "default"
    assert PRIMARY_READS_COOKIE not in response.cookies


def test_reads_stay_on_primary_within_the_sticky_window_after_a_write(client, replica_alias):
    client.post("/reads/")  # the person wrote (the cookie is kept by the client)

    assert client.get("/reads/").json()["read"] == "default"


def test_reads_return_to_replica_when_the_sticky_window_is_over(
    client, replica_alias, settings, monkeypatch
):
    settings.DATABASE_REPLICA_STICKY_SECONDS = 10
    # Given a cookie signed 11 s ago
    real_time = signing.time.time
    monkeypatch.setattr(signing, "time", types.SimpleNamespace(time=lambda: real_time() - 11))
    client.post("/reads/")
    monkeypatch.undo()

    assert PRIMARY_READS_COOKIE in client.cookies
    assert client.get("/reads/").json()["read"] == "replica"


def test_a_forged_sticky_cookie_is_ignored(client, replica_alias):
    client.cookies[PRIMARY_READS_COOKIE] = "1"  # unsigned: anyone could send it

    assert client.get("/reads/").json()["read"] == "replica"


def test_a_request_that_writes_reads_the_rest_from_primary(client, replica_alias):
    body = client.get("/write-then-read/").json()

    assert body == {"before": "replica", "wrote_to": "default", "after": "default"}


def test_primary_paths_never_read_from_replica(client, replica_alias, settings):
    settings.DATABASE_REPLICA_PRIMARY_PATHS = ["/reads/"]

    assert client.get("/reads/").json()["read"] == "default"


def test_lag_above_the_limit_reads_from_primary(
    client, replica_alias, settings, monkeypatch, caplog
):
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 5
    monkeypatch.setattr(db_router, "replica_lag_seconds", lambda: 5.5)

    with caplog.at_level(logging.WARNING, logger="salesmgmt.db_router"):
        assert client.get("/reads/").json()["read"] == "default"
    assert "Read replica 5.5 s behind (limit 5 s)" in caplog.text

    # Caught up again, after the check interval
    monkeypatch.setattr(db_router, "replica_lag_seconds", lambda: 4.0)
    db_router.forget_replica_health()
    assert client.get("/reads/").json()["read"] == "replica"


def test_lag_is_measured_once_per_check_interval(client, replica_alias, settings, monkeypatch):
    settings.DATABASE_REPLICA_CHECK_SECONDS = 60
    checks = []
    monkeypatch.setattr(db_router, "replica_lag_seconds", lambda: checks.append(1) or 0.0)

    for _ in range(3):
        client.get("/reads/")

    assert len(checks) == 1


def test_real_lag_query_on_a_server_that_is_no_standby_is_zero(replica_alias):
    assert db_router.replica_lag_seconds() == 0.0


def test_replica_down_reads_from_primary_and_logs(client, replica_alias, closed_port, caplog):
    if connection.vendor == "postgresql":
        replica_alias(HOST="127.0.0.1", PORT=closed_port)
    else:
        replica_alias(NAME="/nonexistent/folder/replica.sqlite3")  # cannot be opened

    with caplog.at_level(logging.WARNING, logger="salesmgmt.db_router"):
        response = client.get("/reads/")

    assert response.status_code == 200
    assert response.json()["read"] == "default"
    assert "Read replica unreachable, reading from the primary" in caplog.text
    assert db_router.replica_health().lag_seconds is None


def test_replica_failing_mid_request_is_answered_from_primary(
    client, replica_alias, monkeypatch, caplog
):
    # Given a replica that passed its check, then drops the connection during the view
    monkeypatch.setattr(db_router, "replica_lag_seconds", lambda: 0.0)

    with caplog.at_level(logging.WARNING):
        response = client.get("/replica-dies/")

    assert response.status_code == 200
    assert response.json() == {"read": "default"}
    assert "Read replica failed during GET /replica-dies/" in caplog.text
    assert "Database unavailable" not in caplog.text  # no outage was logged


def test_without_a_replica_alias_nothing_is_routed(client, settings):
    settings.ROOT_URLCONF = "tests.salesmgmt.replica.urls"
    router = PrimaryReplicaRouter()

    response = client.post("/reads/")

    assert response.json()["read"] == "default"
    assert PRIMARY_READS_COOKIE not in response.cookies
    with reads_from_replica():
        assert router.db_for_read(User) is None
        assert router.db_for_write(User) is None


def test_outside_a_request_reads_go_to_primary(replica_alias):
    # Celery workers and management commands: no request marked the context.
    assert User.objects.all().db == "default"
    assert PrimaryReplicaRouter().db_for_read(User) == "default"


def test_a_celery_task_run_eagerly_inside_a_replica_request_reads_from_primary(replica_alias):
    @celery_app.task(name="tests.replica.where_reads_go")
    def where_reads_go() -> str:
        return User.objects.all().db

    with reads_from_replica():
        assert User.objects.all().db == "replica"
        assert where_reads_go.apply().get() == "default"


def test_migrations_never_run_on_the_replica():
    router = PrimaryReplicaRouter()

    assert router.allow_migrate("replica", "accounts") is False
    assert router.allow_migrate("default", "accounts") is None


def test_objects_read_from_the_replica_relate_and_save_to_primary(replica_alias):
    router = PrimaryReplicaRouter()
    from_replica, from_primary = User(), User()
    from_replica._state.db, from_primary._state.db = "replica", "default"

    assert router.allow_relation(from_replica, from_primary) is True
    with reads_from_replica():
        assert router.db_for_write(User, instance=from_replica) == "default"


def test_replica_usable_uses_the_memo_until_refreshed(replica_alias, monkeypatch, settings):
    settings.DATABASE_REPLICA_CHECK_SECONDS = 60
    monkeypatch.setattr(db_router, "replica_lag_seconds", lambda: 0.0)
    assert replica_usable()

    monkeypatch.setattr(db_router, "replica_lag_seconds", lambda: 1e6)
    assert replica_usable()  # the memo
    assert not replica_usable(refresh=True)


# --- the settings --------------------------------------------------------------------------


PRIMARY = {
    "ENGINE": "django.db.backends.postgresql",
    "NAME": "sales",
    "HOST": "db1",
    "PORT": 5432,
    "ATOMIC_REQUESTS": False,
    "CONN_MAX_AGE": 60,
    "CONN_HEALTH_CHECKS": True,
    "OPTIONS": {"options": "-c max_parallel_workers_per_gather=0", "sslmode": "require"},
}


def test_replica_settings_connect_as_the_primary_does():
    replica = {"ENGINE": "django.db.backends.postgresql", "NAME": "sales", "HOST": "db2"}

    entry = replica_database(replica, primary=PRIMARY, connect_timeout=2)

    assert entry["HOST"] == "db2"
    assert entry["CONN_MAX_AGE"] == 60
    assert entry["CONN_HEALTH_CHECKS"] is True
    assert entry["OPTIONS"] == {
        "options": "-c max_parallel_workers_per_gather=0",
        "sslmode": "require",
        "connect_timeout": 2,
    }
    assert entry["TEST"] == {"MIRROR": "default"}


def test_replica_settings_keep_the_urls_own_options():
    replica = {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "db2",
        "OPTIONS": {"sslmode": "disable", "connect_timeout": 9},
    }

    entry = replica_database(replica, primary=PRIMARY, connect_timeout=2)

    assert entry["OPTIONS"]["sslmode"] == "disable"
    assert entry["OPTIONS"]["connect_timeout"] == 9


def test_replica_of_another_kind_of_database_is_refused():
    with pytest.raises(ValueError, match="same kind of database"):
        replica_database(
            {"ENGINE": "django.db.backends.sqlite3", "NAME": "x"},
            primary=PRIMARY,
            connect_timeout=2,
        )


def test_without_the_variable_there_is_no_replica_alias(settings):
    assert "replica" not in settings.DATABASES
