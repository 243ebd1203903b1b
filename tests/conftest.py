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
    "tests.fixtures.replica",
    "tests.fixtures.mail",
    "tests.fixtures.demo",
]


BROWSER_TESTS = "tests/browser/"


def _flushes_the_database(item) -> bool:
    """Whether the test is transactional: Django empties every table when it ends."""
    names = getattr(item, "fixturenames", ())
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or marker.args[:1] == (True,)):
        return True
    return "transactional_db" in names or "live_server" in names


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """A transactional test ends by emptying every table, the data migrations' rows (the
    built-in scorecard templates) too; put them back for the tests this worker runs next,
    which find them after ``migrate`` and rely on them."""
    yield
    # Not after the worker's last test: its teardown also ended the session's fixtures, so the
    # test database is gone and the connection points at the real one.
    if nextitem is not None and _flushes_the_database(item):
        import importlib

        from django.apps import apps
        from pytest_django.plugin import blocking_manager_key

        builtins = importlib.import_module("coaching.migrations.0002_builtin_templates")
        with item.config.stash[blocking_manager_key].unblock():
            builtins.add_builtins(apps, None)


def pytest_xdist_make_scheduler(config, log):
    """Under xdist: every browser test in one work unit (one worker, in collection order), so
    the page-coverage test, which runs last, sees every page they visited; every other test
    load-balanced one by one. (xdist's ``--dist loadgroup`` would do it with ``xdist_group``
    marks, but with pytest 9 its group names never reach the node ids, so nothing is grouped.)
    """
    from xdist.scheduler import LoadScopeScheduling

    class BrowserTestsTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return BROWSER_TESTS if nodeid.startswith(BROWSER_TESTS) else nodeid

    return BrowserTestsTogether(config, log)


def pytest_configure_node(node):
    """xdist, in the controller: tell each worker that the browser tests run together
    (tests/browser/conftest.py: only then may the page-coverage test judge the run)."""
    node.workerinput["browser_tests_together"] = True


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
