"""SQLite while a long write runs (a background CSV import applies in one transaction):
readers still read (write-ahead logging), and an API token's last-use bookkeeping waits for a
later call instead of turning the request into a 503."""

from __future__ import annotations

import sqlite3

import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.db.backends.sqlite3.base import DatabaseWrapper

from salesmgmt import services
from salesmgmt.models import ApiToken

pytestmark = pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"), reason="SQLite only"
)


def _file_database(path) -> DatabaseWrapper:
    """A connection configured as the app's, on a file (the tests' database is in memory)."""
    config = {**settings.DATABASES["default"], "NAME": str(path)}
    config["OPTIONS"] = {**config.get("OPTIONS", {}), "timeout": 0.2}
    return DatabaseWrapper(config, alias="file")


@pytest.mark.django_db  # lets pytest-django's guard allow the extra connections
def test_readers_read_while_a_long_write_transaction_is_open(tmp_path):
    app = _file_database(tmp_path / "app.sqlite3")
    with app.cursor() as cursor:
        cursor.execute("CREATE TABLE t (n integer)")
        cursor.execute("INSERT INTO t VALUES (0)")
    # The import: one write transaction, big enough to spill SQLite's page cache to the file
    # (what took the exclusive lock that kept every reader out in the rollback journal).
    writer = sqlite3.connect(tmp_path / "app.sqlite3", isolation_level=None)
    writer.execute("PRAGMA cache_size=10")
    writer.execute("BEGIN IMMEDIATE")
    writer.executemany("INSERT INTO t VALUES (?)", ((n,) for n in range(1, 20_001)))
    reader = _file_database(tmp_path / "app.sqlite3")
    try:
        with reader.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            mode = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM t")
            seen = cursor.fetchone()[0]
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        reader.close()
        app.close()

    assert mode == "wal"
    assert seen == 1  # the committed state, at once, not "database is locked"


@pytest.mark.django_db(transaction=True)
def test_a_token_is_accepted_when_its_last_use_cannot_be_written(rep_a, monkeypatch):
    token, _key = services.api_token_create(user=rep_a, name="sync")

    def locked(self, **values):
        raise OperationalError("database is locked")

    monkeypatch.setattr(type(ApiToken.objects.all()), "update", locked)
    services.api_token_touch(token=token)  # no error: the call goes on

    assert token.last_used_at is None  # recorded by a later call
    assert not connection.in_atomic_block


@pytest.mark.django_db
def test_inside_a_transaction_the_error_is_not_swallowed(rep_a, monkeypatch):
    token, _key = services.api_token_create(user=rep_a, name="sync")
    monkeypatch.setattr(
        type(ApiToken.objects.all()),
        "update",
        lambda self, **values: (_ for _ in ()).throw(OperationalError("database is locked")),
    )

    with pytest.raises(OperationalError):
        services.api_token_touch(token=token)
