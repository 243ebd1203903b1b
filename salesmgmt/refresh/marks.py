"""Writing stale marks: ``changed`` (services) and ``mark_stale`` (a refresh feeding a kind)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from .registry import Key, kind_get, kind_names


@dataclass(frozen=True)
class Change:
    """What a write changed, as the service that made it knows it.

    ``deals``/``activities``: ids of rows written (or about to be deleted: call ``changed``
    before the delete, so the kinds can still read them). ``days``: every date the write moved
    a figure from or to (a deal's old and new close dates, an activity's day). ``people`` and
    ``periods``: inputs of those people or periods themselves (a quota, a call, a move in the
    hierarchy). ``territories``: territories whose accounts, rules or members
    changed. ``everything``: company-wide inputs (exchange rates, the reporting tree).
    """

    deals: frozenset[int] = frozenset()
    activities: frozenset[int] = frozenset()
    people: frozenset[int] = frozenset()
    periods: frozenset[int] = frozenset()
    territories: frozenset[int] = frozenset()
    days: frozenset[dt.date] = frozenset()
    everything: bool = False

    def is_empty(self) -> bool:
        return not (
            self.everything
            or self.deals
            or self.activities
            or self.people
            or self.periods
            or self.territories
            or self.days
        )


def _ids(values: Iterable[int | None]) -> frozenset[int]:
    return frozenset(int(v) for v in values if v is not None)


def changed(
    *,
    deals: Iterable[int | None] = (),
    activities: Iterable[int | None] = (),
    people: Iterable[int | None] = (),
    periods: Iterable[int | None] = (),
    territories: Iterable[int | None] = (),
    days: Iterable[dt.date | None] = (),
    everything: bool = False,
    kinds: Iterable[str] | None = None,
) -> int:
    """Mark stale every aggregate this write affects; call inside the writer's transaction.

    ``kinds`` limits the marking to those kinds (a refresh that feeds another kind, say);
    by default every registered kind is asked. Returns the number of marks asked for.
    """
    change = Change(
        deals=_ids(deals),
        activities=_ids(activities),
        people=_ids(people),
        periods=_ids(periods),
        territories=_ids(territories),
        days=frozenset(d for d in days if d is not None),
        everything=everything,
    )
    if change.is_empty():
        return 0
    asked = 0
    for name in kind_names() if kinds is None else kinds:
        kind = kind_get(name)
        asked += mark_stale(kind=name, keys=kind.keys_for(change))
    return asked


def mark_stale(*, kind: str, keys: Iterable[Key]) -> int:
    """Write a pending mark per key (coalesced) and send the kind's task after commit."""
    from ..models import StaleMark

    kind_get(kind)  # an unknown kind fails here, inside the writer's transaction
    unique = {(int(person or 0), int(period or 0)) for person, period in keys}
    if not unique:
        return 0
    StaleMark.objects.bulk_create(
        [StaleMark(kind=kind, person_key=p, period_key=q) for p, q in sorted(unique)],
        # A pending mark for the key already exists: this change is covered by it.
        ignore_conflicts=True,
    )
    _send_on_commit(kind)
    return len(unique)


class _SendOnce:
    """Whether one transaction's send of a kind has happened (shared by its callbacks)."""

    sent = False


class _SendOnCommit:
    """The on-commit send of one kind's task; callbacks sharing a token send once."""

    def __init__(self, kind: str, token: _SendOnce) -> None:
        self.kind = kind
        self.token = token
        # Django names a robust callback that failed by its __qualname__, which an instance
        # lacks: without it the failure's log line raised, and the write's request failed.
        self.__qualname__ = f"{type(self).__qualname__}({kind})"

    def __call__(self) -> None:
        from .tasks import batch_send

        if self.token.sent:
            return
        self.token.sent = True
        batch_send(kind=self.kind)


def _send_on_commit(kind: str) -> None:
    """One send per kind per transaction: a CSV import marking row after row in one
    transaction sends one task of a kind on commit, not one per row (a batch claims them all).

    Each mark still registers its own callback, sharing the transaction's token: a callback
    that never runs (its savepoint rolled back, or a test's transaction that never commits)
    then cannot swallow the send of a later one.
    """
    token = _SendOnce()
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        for _, callback, _ in connection.run_on_commit:
            if isinstance(callback, _SendOnCommit) and callback.kind == kind:
                token = callback.token
                break
    # robust: with the broker down the write still succeeds; the sweep runs the marks.
    transaction.on_commit(_SendOnCommit(kind, token), robust=True)


def pending_count(*, kind: str | None = None) -> int:
    """Marks not yet refreshed (pending or in flight), of one kind or all."""
    from ..models import StaleMark

    marks = StaleMark.objects.all()
    return (marks.filter(kind=kind) if kind else marks).count()
