"""Models of the coaching app (added by its issue)."""
