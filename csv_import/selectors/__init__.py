"""Reads of the cross-domain features (no writes, no enqueues)."""
