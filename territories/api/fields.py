"""Related fields shared by the territories API serializers."""

from __future__ import annotations

from accounts.models import Account
from salesmgmt.api.fields import VisibleRelatedField
from salesmgmt.api.serializers import UserSummarySerializer
from salesmgmt.models import User
from salesmgmt.visibility import visible_users

from ..models import Territory


def people_field(**kwargs) -> VisibleRelatedField:
    """A person: writes accept only people the caller sees; ``?expand=`` gives a summary."""
    if not kwargs.get("read_only"):
        kwargs.update(queryset=User.objects.all(), visible=visible_users)
    return VisibleRelatedField(expanded=UserSummarySerializer, **kwargs)


def visible_accounts(user: User):
    return Account.objects.visible_to(user)


def visible_territories(user: User):
    return Territory.objects.visible_to(user)
