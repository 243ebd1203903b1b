"""Models of the forecasting app (added by its issue)."""
