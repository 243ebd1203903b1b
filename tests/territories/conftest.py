"""Fixtures for the territories tests: a small territory map (periods: tests/fixtures/periods.py).

The map (each territory owned by a persona from tests/fixtures/personas.py):

    West (region, manager_a) ── NorCal (rep_a), SoCal (se_a)
    East (region, manager_b) ── NewYork (rep_b)
"""

from __future__ import annotations

import pytest

from territories.models import Territory
from tests.territories.factories import TerritoryFactory


@pytest.fixture
def territory_map(rep_a, se_a, rep_b, manager_a, manager_b):
    west = TerritoryFactory(name="West", level=Territory.Level.REGION, owner=manager_a)
    east = TerritoryFactory(name="East", level=Territory.Level.REGION, owner=manager_b)
    return {
        "west": west,
        "east": east,
        "norcal": TerritoryFactory(name="NorCal", parent=west, owner=rep_a),
        "socal": TerritoryFactory(name="SoCal", parent=west, owner=se_a),
        "newyork": TerritoryFactory(name="NewYork", parent=east, owner=rep_b),
    }
