"""A "replica" alias for the router tests: a second connection to the test database.

As Django's TEST MIRROR does: the alias reads what the primary committed, so the routing
can be observed without a standby (tests/fixtures/replica.py starts a real one).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest
from django.db import connections

from salesmgmt.settings.databases import replica_database
from tests.fixtures.replica import add_replica_alias, remove_replica_alias


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
