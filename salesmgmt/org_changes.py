"""Tell the domain apps that the hierarchy or the exchange rates changed, without importing them.

A manager move or a new exchange rate changes figures that domain apps precompute (today the
attainment of territories). The core imports no domain app (the layers contract in
pyproject.toml), so each such app registers a callback in its ``AppConfig.ready`` and the
core's services call ``org_changed()`` inside their transaction: the callbacks run there too,
so a rollback drops whatever they marked.
"""

from __future__ import annotations

from collections.abc import Callable

_callbacks: list[Callable[[], object]] = []


def on_org_changed(callback: Callable[[], object]) -> None:
    """Call ``callback()`` (no arguments) on every hierarchy or exchange-rate change."""
    if callback not in _callbacks:
        _callbacks.append(callback)


def org_changed() -> None:
    """The hierarchy or an exchange rate changed in the current transaction."""
    for callback in list(_callbacks):
        callback()
