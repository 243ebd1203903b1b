"""The test session: xdist worker count, per-test isolation, and the shared fixtures.

The fixtures every package uses live in tests/fixtures/ and are registered here, once, with
``pytest_plugins`` (pytest accepts it only in the root conftest). Directory conftests keep
only what belongs to their package.
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core.cache import cache

pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.personas",
    "tests.fixtures.periods",
    "tests.fixtures.api",
    "tests.fixtures.celery_worker",
    "tests.fixtures.demo",
]


def pytest_configure_node(node):
    """xdist, in the controller: tell each worker how tests are distributed (a worker's own
    ``dist`` option reads 'no'); tests/browser/conftest.py needs to know."""
    node.workerinput["dist"] = node.config.getoption("dist")


def pytest_xdist_auto_num_workers(config):
    """``-n auto`` (make test): one worker per CPU, but with REDIS_URL no more than the Redis
    databases left after REDIS_URL's (each worker takes one: salesmgmt/settings/test.py)."""
    url = os.environ.get("REDIS_URL", "")
    if not url:
        return None  # xdist's own count
    from salesmgmt.settings.test import REDIS_DATABASES

    base = (url.rsplit("/", 1)[-1].split("?")[0] or "0") if url.count("/") > 2 else "0"
    free = REDIS_DATABASES - 1 - int(base) if base.isdigit() else 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cpus or 1, free))


@pytest.fixture(scope="session", autouse=True)
def _empty_worker_redis_database():
    """Under xdist with REDIS_URL each worker owns a Redis database (settings/test.py): start
    it empty, as .ci/run starts REDIS_URL's own, so an earlier run's keys cannot leak in."""
    if settings.XDIST_WORKER and settings.REDIS_URL:
        cache.clear()
