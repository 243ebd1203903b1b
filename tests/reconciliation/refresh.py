"""The product's own refresh of every stored aggregate, run synchronously for the tests."""

from __future__ import annotations

from reconciliation.product_refresh import refresh_all

TRIALS = 200  # enough for a range; the reconciliation checks its bounds, not its shape


def refresh_everything() -> None:
    refresh_all(trials=TRIALS)
