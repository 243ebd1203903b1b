"""Shared fixtures: the personas every visibility test uses, and a standard sales process.

The org (each persona a fixture):

    executive (exec)
    ├── manager_a ── rep_a, se_a (a sales engineer)
    └── manager_b ── rep_b
    integrator (no manager; API only)
"""

from __future__ import annotations

import secrets

import pytest
from django.core.cache import cache

from salesmgmt import aggregate_version
from salesmgmt.models import Role, SalesRole
from tests.factories import UserFactory, build_process


@pytest.fixture(autouse=True)
def _fresh_aggregates_version():
    """Each test starts on a version of the aggregates no earlier test rendered under: rolled
    back tests reuse primary keys (SQLite), so a fragment cached by one must not reach the next."""
    cache.set(aggregate_version.KEY, secrets.randbits(48), timeout=None)


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
