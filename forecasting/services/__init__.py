"""Writes of the forecasting app: calls and adjustments, overrides, recomputes, snapshots."""
