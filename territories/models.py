"""Models of the territories app (added by its issue)."""
