"""The one refresh path's core: marks coalesce, batches claim, failures release, sweeps catch up."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from salesmgmt import refresh
from salesmgmt.models import StaleMark
from salesmgmt.refresh import registry, runner

pytestmark = pytest.mark.django_db


class Recorder:
    """A test kind: keyed by (person, 0) for every person a change names; records batches."""

    def __init__(self, *, fail: bool = False, debounce: float = 0.0) -> None:
        self.batches: list[list[refresh.Key]] = []
        self.fail = fail
        self.debounce = debounce
        self.during = lambda: None

    def keys_for(self, change: refresh.Change):
        return [(person, 0) for person in change.people]

    def refresh(self, keys):
        if self.fail:
            raise RuntimeError("boom")
        self.during()
        self.batches.append(list(keys))
        return len(keys)


@pytest.fixture
def recorder(monkeypatch):
    kinds = dict(registry._KINDS)
    monkeypatch.setattr(registry, "_KINDS", {})
    rec = Recorder()
    refresh.register_kind(
        refresh.AggregateKind(
            name="test-kind",
            keys_for=rec.keys_for,
            refresh=rec.refresh,
            debounce_seconds=lambda: rec.debounce,
        )
    )
    yield rec
    registry._KINDS.clear()
    registry._KINDS.update(kinds)


def test_marks_coalesce_per_key(recorder):
    assert refresh.changed(people=[1, 2]) == 2
    assert refresh.changed(people=[2, 3, None]) == 2
    assert sorted(StaleMark.objects.values_list("person_key", flat=True)) == [1, 2, 3]


def test_an_empty_change_marks_nothing(recorder):
    assert refresh.changed(people=[None]) == 0
    assert not StaleMark.objects.exists()


def test_a_rolled_back_write_leaves_no_mark(recorder):
    def write_that_fails() -> None:
        with transaction.atomic():
            refresh.changed(people=[1])
            raise RuntimeError("the write failed")

    with pytest.raises(RuntimeError):
        write_that_fails()
    assert not StaleMark.objects.exists()


def test_the_commit_sends_one_batch_that_refreshes_and_clears(
    recorder, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        refresh.changed(people=[5, 6])
    # Eager tasks: the batch ran on commit.
    assert recorder.batches == [[(5, 0), (6, 0)]]
    assert refresh.pending_count() == 0


def test_a_transaction_sends_one_task_per_kind_however_many_writes_it_marks(
    recorder, django_capture_on_commit_callbacks, monkeypatch
):
    from salesmgmt.refresh import tasks

    sent: list[str] = []
    real_send = tasks.batch_send

    def send(*, kind: str) -> bool:
        sent.append(kind)
        return real_send(kind=kind)

    monkeypatch.setattr(tasks, "batch_send", send)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for person in range(1, 51):  # an import's rows, say
            refresh.changed(people=[person])
    assert sent == ["test-kind"]
    assert recorder.batches == [[(person, 0) for person in range(1, 51)]]


def test_a_callback_that_never_runs_does_not_swallow_a_later_send(
    recorder, django_capture_on_commit_callbacks
):
    # given a mark whose transaction's callbacks never run (a test fixture's, say)
    refresh.changed(people=[1])
    # when a later write in a captured commit marks the same kind
    with django_capture_on_commit_callbacks(execute=True):
        refresh.changed(people=[2])
    # then its own callback sends the batch, which claims both marks
    assert recorder.batches == [[(1, 0), (2, 0)]]


def test_a_send_that_fails_after_commit_is_logged_and_the_write_stands(
    recorder, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    # given a broker that refuses the task (the sweep runs the marks later)
    from salesmgmt.refresh import tasks

    def refuse(*, kind: str) -> bool:
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks, "batch_send", refuse)
    # when a write commits, its robust on-commit send fails
    with django_capture_on_commit_callbacks(execute=True):
        refresh.changed(people=[3])
    # then the failure is logged by name, nothing is raised, and the mark waits for the sweep
    assert "_SendOnCommit(test-kind)" in caplog.text
    assert StaleMark.objects.filter(kind="test-kind").exists()


def test_no_claim_while_a_batch_is_in_flight(recorder):
    refresh.changed(people=[1])
    StaleMark.objects.update(started_at=timezone.now())
    refresh.changed(people=[1])  # pending again while the first runs
    assert refresh.refresh_kind(kind="test-kind") == 0
    assert recorder.batches == []
    assert StaleMark.objects.count() == 2


def test_an_abandoned_batch_is_claimed_again_with_the_pending_marks(recorder):
    refresh.changed(people=[1])
    StaleMark.objects.update(started_at=timezone.now() - runner.STALE_AFTER - dt.timedelta(1))
    refresh.changed(people=[1, 2])
    assert refresh.refresh_sweep()["test-kind"] == 2
    assert recorder.batches == [[(1, 0), (2, 0)]]
    assert not StaleMark.objects.exists()


def test_the_debounce_holds_marks_until_the_oldest_is_due(recorder):
    recorder.debounce = 30
    refresh.changed(people=[1])
    assert refresh.refresh_kind(kind="test-kind") == 0
    later = timezone.now() + dt.timedelta(seconds=31)
    assert refresh.refresh_kind(kind="test-kind", now=later) == 1


def test_a_failed_batch_gives_its_marks_back(recorder):
    refresh.changed(people=[1, 2])
    recorder.fail = True
    with pytest.raises(RuntimeError):
        refresh.refresh_kind(kind="test-kind")
    marks = StaleMark.objects.all()
    assert marks.count() == 2
    assert all(m.started_at is None and m.attempts == 1 for m in marks)
    recorder.fail = False
    assert refresh.refresh_due() == {"test-kind": 2}


def test_a_failed_batch_merges_with_pending_twins(recorder):
    refresh.changed(people=[1])
    ids, _ = runner._claim(kind="test-kind", now=timezone.now())
    refresh.changed(people=[1])  # a new pending twin while the batch runs
    runner._release(kind="test-kind", ids=ids)
    assert list(StaleMark.objects.values_list("person_key", "started_at")) == [(1, None)]


def test_an_unknown_kind_is_an_error():
    with pytest.raises(LookupError):
        refresh.kind_get("nope")


def test_the_sweep_is_on_the_beat_schedule():
    from salesmgmt.celery import app

    entry = app.conf.beat_schedule["refresh-sweep"]
    assert entry["task"] == "salesmgmt.tasks.refresh_sweep"
    assert entry["schedule"] <= 60


def test_a_debounced_kind_waits_for_its_window_even_in_eager_mode(
    recorder, django_capture_on_commit_callbacks
):
    # Eager tasks run at once: the batch finds the mark not yet due and leaves it (no loop).
    recorder.debounce = 30
    with django_capture_on_commit_callbacks(execute=True):
        refresh.changed(people=[1])
    assert recorder.batches == []
    assert refresh.pending_count(kind="test-kind") == 1


def test_the_task_sends_the_next_batch_for_marks_written_meanwhile(recorder, monkeypatch):
    from salesmgmt.refresh import tasks

    sent: list[str] = []
    monkeypatch.setattr(tasks, "batch_send", lambda *, kind: sent.append(kind))
    recorder.during = lambda: refresh.changed(people=[9])  # a write while the batch runs
    refresh.changed(people=[1])
    assert tasks.refresh_aggregate("test-kind") == 1
    assert sent == ["test-kind"]
    assert refresh.pending_count(kind="test-kind") == 1
