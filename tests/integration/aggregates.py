"""What a full forecast recompute leaves behind, as comparable data (ids and times left out)."""

from __future__ import annotations

from django.db.models import Model

from forecasting.models import (
    CalibrationBucket,
    DealProbability,
    ForecastRollup,
    KpiSnapshot,
    TrialVector,
)

AGGREGATES: list[type[Model]] = [
    ForecastRollup,
    DealProbability,
    TrialVector,
    KpiSnapshot,
    CalibrationBucket,
]
VOLATILE = {"id", "computed_at", "created_at", "updated_at"}


def _plain(value: object) -> object:
    return bytes(value) if isinstance(value, memoryview) else value


def aggregate_snapshot() -> dict[str, list[tuple]]:
    """Every aggregate row, sorted: duplicates and gaps both show up as a difference."""
    snapshot = {}
    for model in AGGREGATES:
        fields = [f.attname for f in model._meta.concrete_fields if f.name not in VOLATILE]
        rows = (tuple(_plain(v) for v in row) for row in model.objects.values_list(*fields))
        snapshot[model.__name__] = sorted(rows, key=repr)
    return snapshot


def assert_same_aggregates(actual: dict[str, list[tuple]], expected: dict[str, list[tuple]]):
    for name, rows in expected.items():
        assert len(actual[name]) == len(rows), f"{name}: {len(actual[name])} rows, not {len(rows)}"
        assert actual[name] == rows, f"{name} rows differ"
