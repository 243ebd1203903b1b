"""The aggregate kinds the apps register (a registry, not signals: the core calls them)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .marks import Change

# (person id, period id); 0 where the kind is not keyed by it (the attainment of a period,
# a person's compliance, the one planning snapshot: (0, 0)).
Key = tuple[int, int]


@dataclass(frozen=True)
class AggregateKind:
    """One kind of precomputed figure and how to keep it fresh.

    ``keys_for`` runs inside the writer's transaction and returns the keys a change makes
    stale: (person id or 0, period id or 0). It may read (the rows as the writer left them,
    and aggregates not yet recomputed, i.e. where a deal counted before) but never write.
    ``refresh`` recomputes exactly those keys from the source tables, idempotently (a batch
    may run twice), and returns how many rows it wrote. ``debounce_seconds`` is how long the
    oldest mark waits before a batch claims it: 0 runs at once (marks arriving while a batch
    runs go to the next one); more lets a burst pile up into one batch.
    """

    name: str
    keys_for: Callable[[Change], Iterable[Key]]
    refresh: Callable[[list[Key]], int]
    debounce_seconds: Callable[[], float] = field(default=lambda: 0.0)
    # The Celery queue its batches go to (None: the default queue).
    queue: Callable[[], str | None] = field(default=lambda: None)

    def send_options(self) -> dict:
        """How its batch task is sent: the queue, and the debounce as a whole-second countdown
        (``enqueue`` then keeps one delayed message per window)."""
        options: dict = {"queue": self.queue()}
        debounce = self.debounce_seconds()
        if debounce > 0:
            options["countdown"] = max(1, round(debounce))
        return options


_KINDS: dict[str, AggregateKind] = {}


def register_kind(kind: AggregateKind) -> AggregateKind:
    """Register (or replace, on a reload) the kind under its name; call from AppConfig.ready."""
    _KINDS[kind.name] = kind
    return kind


def kind_get(name: str) -> AggregateKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"No aggregate kind {name!r} is registered.") from None


def kind_names() -> list[str]:
    return sorted(_KINDS)
