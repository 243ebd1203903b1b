"""A notification before it is stored: who, what, where it links, and how to check that the
recipient may open that link (the visibility policy, through the owning app's selector)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404

from salesmgmt.errors import PermissionDeniedError
from salesmgmt.models import User

HIDDEN = (Http404, ObjectDoesNotExist, PermissionDenied, PermissionDeniedError)


@dataclass(frozen=True)
class Draft:
    recipient: User
    kind: str
    title: str
    body: str
    link: str
    dedupe_key: str
    subject_label: str = ""
    subject_id: int | None = None
    # Fetches the linked record as the recipient would (a selector's ``*_get``): a 404 or a
    # permission error means the recipient may not see it, so they are not told.
    fetch: Callable[[User], object] | None = None

    def recipient_may_open(self) -> bool:
        if not self.recipient.is_active or self.recipient.is_integrator:
            return False
        if self.fetch is None:
            return True
        try:
            self.fetch(self.recipient)
        except HIDDEN:
            return False
        return True
