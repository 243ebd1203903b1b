"""Fixtures of the sweeps: the world, the clients of every persona, no outbound network."""

from __future__ import annotations

import copy
import os
import random

import pytest
from django.core.cache import cache

from .probe import Prober, outbound_refused
from .world import build_world

# SWEEP_FULL=1 (make fuzz) sends every case; CI sends a fixed sample (SWEEP_SEED to vary it).
FULL = os.environ.get("SWEEP_FULL") == "1"
SEED = int(os.environ.get("SWEEP_SEED", "14"))


def sample(cases: list, *, keep, fraction: float) -> list:
    """Cases ``keep`` says to always send, plus a fixed-seed share of the others (all: FULL)."""
    if FULL:
        return cases
    rng = random.Random(SEED)
    return [case for case in cases if keep(case) or rng.random() < fraction]


@pytest.fixture
def sweep_world(personas, process, settings):
    """Both teams' records; throttles out of the way; webhooks allowed nowhere (the default)."""
    cache.clear()
    rest = copy.deepcopy(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {
        name: "1000000/min" for name in rest.get("DEFAULT_THROTTLE_RATES", {})
    }
    settings.REST_FRAMEWORK = rest
    settings.WEBHOOK_ALLOWED_HOSTS = []
    settings.FORECASTING_TRIALS = 50
    return build_world(personas, process)


@pytest.fixture
def prober(sweep_world, personas):
    prober = Prober(personas, sweep_world)
    with outbound_refused() as recorder:
        prober.outbound = recorder
        yield prober
    cache.clear()
