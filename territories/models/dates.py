"""Constraints shared by the effective-dated models of this app."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q


def ends_after_start(name: str) -> models.CheckConstraint:
    """effective_to is empty (still in effect) or not before effective_from."""
    return models.CheckConstraint(
        condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
        name=name,
    )
