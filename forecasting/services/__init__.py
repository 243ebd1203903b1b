"""Writes of the forecasting app: calls and adjustments, recomputes, snapshots."""
