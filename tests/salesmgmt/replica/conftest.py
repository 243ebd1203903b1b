"""A "replica" alias for the router tests: a second connection to the test database.

As Django's TEST MIRROR does: the alias reads what the primary committed, so the routing
can be observed without a standby (tests/fixtures/replica.py starts a real one).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import suppress

import pytest
from django.db import connections
from django.db.utils import load_backend
from django.utils.connection import ConnectionDoesNotExist

from salesmgmt.db_router import REPLICA, forget_replica_health
from salesmgmt.settings.databases import replica_database


def add_replica_alias(settings, entry: dict) -> None:
    """``entry`` as the "replica" alias of this thread, as DATABASE_REPLICA_URL would make it.

    Not through ``connections.settings``: Django's test case forbids connections to aliases
    that existed when it started and are not in its ``databases``; one made afterwards, like
    this, is allowed (and closed by ``remove_replica_alias``).
    """
    settings.DATABASES = {**settings.DATABASES, REPLICA: entry}
    connections[REPLICA] = load_backend(entry["ENGINE"]).DatabaseWrapper(entry, REPLICA)
    forget_replica_health()


def remove_replica_alias() -> None:
    with suppress(ConnectionDoesNotExist, AttributeError):  # not made in this thread
        connections[REPLICA].close()
        del connections[REPLICA]
    forget_replica_health()


@pytest.fixture
def replica_alias(settings) -> Iterator[Callable[..., None]]:
    """The "replica" alias mirrors the test database; call it again to point it elsewhere."""
    settings.ROOT_URLCONF = "tests.salesmgmt.replica.urls"

    def configure(**overrides: object) -> None:
        remove_replica_alias()
        primary = connections["default"].settings_dict
        entry = replica_database(dict(primary), primary=primary, connect_timeout=2)
        add_replica_alias(settings, {**entry, **overrides})

    configure()
    yield configure
    remove_replica_alias()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (a replica that is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
