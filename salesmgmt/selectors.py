"""Reads for the organisation core."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from .models import Period, User
from .visibility import visible_users


def user_list(*, viewer: User) -> QuerySet[User]:
    """People ``viewer`` may see, with their manager loaded."""
    return visible_users(viewer).select_related("manager").order_by("last_name", "first_name", "id")


def subtree_user_ids(*, manager: User, include_self: bool = True) -> list[int]:
    """Ids of everyone reporting to ``manager`` at any depth (one indexed query)."""
    ids = list(
        User.objects.filter(ancestor_path__startswith=manager.subtree_path).values_list(
            "id", flat=True
        )
    )
    return [manager.pk, *ids] if include_self else ids


def period_containing(*, day: dt.date, kind: str = Period.Kind.QUARTER) -> Period | None:
    return Period.objects.filter(kind=kind, start_on__lte=day, end_on__gte=day).first()
