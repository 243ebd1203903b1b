"""Reusable filters; ``visible_to`` applies the one visibility policy to statements."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from salesmgmt.visibility import owned_by_visible

if TYPE_CHECKING:
    from salesmgmt.models import User


class StatementQuerySet(QuerySet):
    def visible_to(self, viewer: User) -> StatementQuerySet:
        """A rep sees their own statements, a manager their subtree's, executives all."""
        return self.filter(owned_by_visible(viewer, "rep"))
