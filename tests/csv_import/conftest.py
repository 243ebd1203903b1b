"""CSV import tests: each starts with fresh throttle counters and offline webhook look-ups."""

import pytest


@pytest.fixture(autouse=True)
def _api_isolation(api_isolation):
    """``api_isolation`` (tests/fixtures/api.py) for every test of this directory."""
