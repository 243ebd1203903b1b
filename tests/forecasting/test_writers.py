"""The aggregate tables' bulk insert: a large write goes in as several COPYs, every row once."""

from __future__ import annotations

import numpy as np
from django.utils import timezone

from forecasting import writers
from forecasting.models import TrialVector


def test_insert_rows_in_several_copies_writes_every_row_once(
    monkeypatch, rep_a, manager_a, executive, period
):
    # given trial vectors far larger than one COPY's buffer
    monkeypatch.setattr(writers, "COPY_CHARS", 1_000)
    at = timezone.now()
    vectors = {p.pk: np.arange(500, dtype=np.float32) + p.pk for p in (rep_a, manager_a, executive)}

    # when they are inserted
    written = writers.insert_rows(
        TrialVector,
        ["person_id", "period_id", "trials", "computed_at"],
        ((pid, period.pk, vec.tobytes(), at) for pid, vec in vectors.items()),
    )

    # then each is stored once, byte for byte
    assert written == 3
    stored = TrialVector.objects.filter(period=period).values_list("person_id", "trials")
    assert {pid: bytes(blob) for pid, blob in stored} == {
        pid: vec.tobytes() for pid, vec in vectors.items()
    }
