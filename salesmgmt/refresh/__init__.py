"""The one refresh path: services say what they changed; stale marks; one task per aggregate.

Every precomputed figure (forecast rollups, KPI rows, attainment, compliance summaries, the
planning snapshot, ...) is one *aggregate kind*, registered by the app that owns it
(``register_kind`` in its ``AppConfig.ready``). The path a change takes is always the same:

1. A service that wrote something an aggregate depends on calls ``changed(...)`` inside its
   transaction, naming what it changed (deals, activities, people, periods, days). Nothing
   else triggers a refresh: no signals, no database triggers, no reads that enqueue.
2. ``changed`` asks each registered kind which of its keys the change makes stale and writes
   one ``StaleMark`` per (kind, key) in the same transaction, so a rolled-back write marks
   nothing and a committed one is never lost. Pending marks coalesce: one per kind and key.
3. On commit, one task per kind (``refresh_aggregate``) is sent, after the kind's debounce.
   It claims every due mark of its kind (one batch of a kind at a time), recomputes those
   keys and deletes the marks. Marks written while it ran are claimed by the next batch.
4. ``refresh_sweep`` (beat, every minute) runs every kind with due marks, and marks claimed
   by a batch that never finished (worker killed, broker down): nothing waits for more than
   a minute plus a batch once the worker is back.

The core knows no aggregate: kinds bring their own key functions and refresh functions.
"""

from .marks import (
    Change,
    Key,
    changed,
    mark_stale,
    pending_count,
)
from .registry import AggregateKind, kind_get, kind_names, register_kind
from .runner import refresh_due, refresh_kind, refresh_sweep

__all__ = [
    "AggregateKind",
    "Change",
    "Key",
    "changed",
    "kind_get",
    "kind_names",
    "mark_stale",
    "pending_count",
    "refresh_due",
    "refresh_kind",
    "refresh_sweep",
    "register_kind",
]
