"""Coaching fixtures: the built-in templates, skills and policies (as the data migration
leaves them; a transactional test elsewhere may have flushed them), the current quarter."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from tests.coaching.factories import current_quarter

builtins = importlib.import_module("coaching.migrations.0002_builtin_templates")


@pytest.fixture(autouse=True)
def _api_isolation(api_isolation):
    """The coaching tests call the API too: ``api_isolation`` (tests/fixtures/api.py)."""


@pytest.fixture(autouse=True)
def builtin_templates(db):
    builtins.add_builtins(apps, None)


@pytest.fixture
def period(db):
    return current_quarter()
