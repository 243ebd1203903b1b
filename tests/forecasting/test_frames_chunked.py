"""The large frames are built a chunk of rows at a time (peak memory); the chunks change nothing."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pandas as pd
import pytest
from django.core.management import call_command
from django.db import connection

from accounts.models import Opportunity, OpportunityChange
from forecasting.selectors import frames
from salesmgmt.money import RateTable
from tests.fixtures.services import require_postgresql


@pytest.fixture
def demo(db):
    call_command("seed_demo", reps=8, opportunities=160, activities_per_deal=1.0, stdout=StringIO())


def test_frames_built_in_chunks_equal_those_built_at_once(demo, monkeypatch):
    # given each large frame built from one chunk of rows
    rates = RateTable.load()

    def built() -> list[pd.DataFrame]:
        return [
            frames.milestone_events_frame(),
            frames.closed_deals_frame(rates=rates),
            frames.close_date_changes_frame(),
        ]

    whole = built()
    assert all(len(frame) > 7 for frame in whole)

    # when they are built seven rows at a time
    monkeypatch.setattr(frames, "LOAD_CHUNK", 7)
    chunked = built()

    # then every value and type is the same
    for one, other in zip(chunked, whole, strict=True):
        pd.testing.assert_frame_equal(one, other, check_exact=True)


def test_frames_read_with_copy_equal_those_read_through_a_cursor(demo, monkeypatch):
    # given each large frame read as PostgreSQL's CSV (COPY), in chunks of seven rows
    require_postgresql("COPY is PostgreSQL's")
    rates = RateTable.load()
    deal = Opportunity.objects.exclude(status="open").order_by("pk").first()
    OpportunityChange.objects.create(  # a text that looks like a number stays text
        opportunity=deal,
        field=OpportunityChange.Field.EXPECTED_CLOSE_ON,
        old_value="",
        new_value="",
    )

    def built() -> list[pd.DataFrame]:
        return [
            frames.milestone_events_frame(),
            frames.closed_deals_frame(rates=rates),
            frames.close_date_changes_frame(),
            frames.close_date_changes_frame(opportunity_ids=[deal.pk]),
        ]

    monkeypatch.setattr(frames, "LOAD_CHUNK", 7)
    copied = built()
    assert all(len(frame) for frame in copied)

    # when they are read through a cursor, a Python object a value
    monkeypatch.setattr(frames, "COPY_LOADS", False)
    cursor = built()

    # then every value, type and the order of the rows are the same
    for one, other in zip(copied, cursor, strict=True):
        pd.testing.assert_frame_equal(one, other, check_exact=True)
    assert isinstance(copied[1]["closed_on"].iloc[0], dt.date)


def test_an_empty_log_is_an_empty_typed_frame(db):
    events = frames.milestone_events_frame()

    assert list(events.columns) == ["opportunity_id", "milestone_id", "at", "counts"]
    assert events.empty
    assert isinstance(events["at"].dtype, pd.DatetimeTZDtype)
    assert str(events["at"].dtype.tz) == "UTC"


def test_the_chunked_loads_are_planned_to_read_every_row(demo, monkeypatch):
    # given a look at PostgreSQL's planner settings while each chunk of rows arrives
    require_postgresql("PostgreSQL plans cursors for a fraction of their rows")
    seen: list[tuple[str, str]] = []
    copied = frames._copied_parts  # PostgreSQL's path: the rows of one COPY, a part at a time

    def watched(rows, columns, parsers):
        for part in copied(rows, columns, parsers):
            with connection.cursor() as cursor:
                cursor.execute("SHOW cursor_tuple_fraction")
                fraction = cursor.fetchone()[0]
                cursor.execute("SHOW work_mem")
                seen.append((fraction, cursor.fetchone()[0]))
            yield part

    monkeypatch.setattr(frames, "_copied_parts", watched)

    # when the milestone log and the close-date changes are loaded
    frames.milestone_events_frame()
    frames.close_date_changes_frame()

    # then their cursors were planned for every row (not the first tenth: an index walk in time
    # order over the whole log at 1 M deals), with the memory to sort them
    assert seen
    assert set(seen) == {("1", f"{frames.LOAD_WORK_MEM_MB}MB")}
