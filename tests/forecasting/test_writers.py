"""The aggregate tables' bulk insert: a large write goes in as several COPYs, every row once."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from django.db import connection
from django.utils import timezone

from forecasting import writers
from forecasting.models import DealProbability, KpiSnapshot, Scope, TrialVector
from tests.factories import OpportunityFactory
from tests.fixtures.services import require_postgresql


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

    # then each is stored once, byte for byte, with its time to the microsecond
    assert written == 3
    stored = TrialVector.objects.filter(period=period).values_list(
        "person_id", "trials", "computed_at"
    )
    assert {pid: (bytes(blob), when) for pid, blob, when in stored} == {
        pid: (vec.tobytes(), at) for pid, vec in vectors.items()
    }


def test_trial_vectors_go_in_as_binary_copy(monkeypatch, rep_a, manager_a, period):
    require_postgresql("COPY is PostgreSQL's; elsewhere rows go in by bulk_create.")
    # given a spy on the COPY statements sent
    sent: list[str] = []
    copy = writers._copy
    monkeypatch.setattr(
        writers, "_copy", lambda cursor, sql, buffer: (sent.append(sql), copy(cursor, sql, buffer))
    )
    at = timezone.now()

    # when trial vectors (integers, bytes, a time) are inserted
    writers.insert_rows(
        TrialVector,
        ["person_id", "period_id", "trials", "computed_at"],
        [(rep_a.pk, period.pk, b"\x00\x01" * 3, at), (manager_a.pk, period.pk, b"", at)],
    )

    # then they went in as binary, not as CSV hex (twice the bytes, parsed by the server)
    assert sent
    assert all(sql.endswith("WITH (FORMAT binary)") for sql in sent)
    stored = dict(TrialVector.objects.values_list("person_id", "trials"))
    assert {pid: bytes(blob) for pid, blob in stored.items()} == {
        rep_a.pk: b"\x00\x01" * 3,
        manager_a.pk: b"",
    }


def test_json_text_is_stored_as_the_json_it_holds(rep_a, period):
    # given a KPI row whose maps come as JSON text (a quote in a key), as a dict, and empty
    fields = [
        "person_id", "period_id", "scope", "won_count", "lost_count", "won_amount",
        "lost_amount", "pipeline_amount", "stage_conversion", "days_in_stage",
        "activities_by_kind", "hire_cohort", "computed_at",
    ]  # fmt: skip
    row = (
        rep_a.pk, period.pk, Scope.OWN, 1, 0, Decimal("10.00"), Decimal("0.00"), Decimal("0.00"),
        writers.JsonText('{"1": 0.5, "2": 0.0001}'), {"2": 3.5},
        writers.JsonText('{"e\\"mail": 2}'), "", timezone.now(),
    )  # fmt: skip

    # when it is inserted
    writers.insert_rows(KpiSnapshot, fields, [row])

    # then each map is stored as the object its text holds, not as a string
    stored = KpiSnapshot.objects.values_list(
        "stage_conversion", "days_in_stage", "activities_by_kind"
    ).get(person=rep_a, period=period)
    assert stored == ({"1": 0.5, "2": 0.0001}, {"2": 3.5}, {'e"mail': 2})


def test_replace_rows_leaves_exactly_the_given_rows_and_keeps_unchanged_ones(
    rep_a, rep_b, process, period
):
    # given stored scores: a deal that stays the same, one that changes, one that leaves the
    # period, and one stored under another owner (the scope is rep_a's)
    deals = [OpportunityFactory(owner=rep_a, process=process) for _ in range(4)]
    moved = OpportunityFactory(owner=rep_b, process=process)
    at = timezone.now()
    fields = [
        "opportunity_id", "owner_id", "category", "amount", "probability", "milestones_done",
        "age_ratio", "period_id",
    ]  # fmt: skip

    def row(deal, owner, probability):
        return (deal.pk, owner.pk, "commit", Decimal("10.00"), probability, 2, 0.5, period.pk)

    writers.insert_rows(
        DealProbability,
        [*fields, "computed_at"],
        [
            (*row(deals[0], rep_a, 0.5), at),
            (*row(deals[1], rep_a, 0.5), at),
            (*row(deals[2], rep_a, 0.5), at),
            (*row(moved, rep_b, 0.5), at),
        ],
    )
    kept = DealProbability.objects.get(opportunity=deals[0]).pk
    given = [
        (*row(deals[0], rep_a, 0.5), at),  # the same
        (*row(deals[1], rep_a, 0.7), at),  # changed
        (*row(moved, rep_a, 0.2), at),  # moved here from another owner
        (*row(deals[3], rep_a, 0.9), at),  # new
    ]

    # when rep_a's scores are replaced, twice (a shard run again)
    for _ in range(2):
        count = writers.replace_rows(
            DealProbability,
            [*fields, "computed_at"],
            iter(given),
            unique="opportunity_id",
            scope=DealProbability.objects.filter(period=period, owner_id__in=[rep_a.pk]),
        )

    # then exactly the given rows are stored; on PostgreSQL the unchanged one never rewritten
    # (elsewhere the rows are deleted and inserted)
    assert count == 4
    stored = DealProbability.objects.order_by("opportunity_id").values_list(*fields, "computed_at")
    assert list(stored) == sorted(given)
    if connection.vendor == "postgresql":
        assert DealProbability.objects.get(opportunity=deals[0]).pk == kept

    # and a scope of nobody deletes nothing
    writers.replace_rows(
        DealProbability,
        [*fields, "computed_at"],
        [],
        unique="opportunity_id",
        scope=DealProbability.objects.filter(owner_id__in=[]),
    )
    assert DealProbability.objects.count() == 4
