"""Shared fixtures: the personas every visibility test uses, and a standard sales process.

The org (each persona a fixture):

    executive (exec)
    ├── manager_a ── rep_a, se_a (a sales engineer)
    └── manager_b ── rep_b
    integrator (no manager; API only)
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core.cache import cache

from salesmgmt.models import Role, SalesRole
from tests.factories import UserFactory, build_process


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


@pytest.fixture
def process(db):
    return build_process()


@pytest.fixture
def executive(db):
    return UserFactory(username="exec", role=Role.EXECUTIVE, title="VP Sales")


@pytest.fixture
def manager_a(executive):
    return UserFactory(username="manager_a", role=Role.MANAGER, manager=executive)


@pytest.fixture
def manager_b(executive):
    return UserFactory(username="manager_b", role=Role.MANAGER, manager=executive)


@pytest.fixture
def rep_a(manager_a):
    return UserFactory(username="rep_a", manager=manager_a, sales_role=SalesRole.AE)


@pytest.fixture
def se_a(manager_a):
    return UserFactory(username="se_a", manager=manager_a, sales_role=SalesRole.SE)


@pytest.fixture
def rep_b(manager_b):
    return UserFactory(username="rep_b", manager=manager_b, sales_role=SalesRole.AE)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", role=Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def integrator(db):
    return UserFactory(username="integrator", role=Role.INTEGRATOR)


@pytest.fixture
def personas(rep_a, rep_b, se_a, manager_a, manager_b, executive, admin_user, integrator):
    """Every persona by name, for tests that sweep all roles."""
    return {
        "rep_a": rep_a,
        "rep_b": rep_b,
        "se_a": se_a,
        "manager_a": manager_a,
        "manager_b": manager_b,
        "executive": executive,
        "admin": admin_user,
        "integrator": integrator,
    }
