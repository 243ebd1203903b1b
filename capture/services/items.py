"""The person's own captured items: filing an unfiled one, deleting one."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts import services as accounts_services
from accounts.models import Opportunity
from salesmgmt.errors import PermissionDeniedError
from salesmgmt.models import User

from ..models import CapturedItem
from .mail import file_item


def _ensure_own(actor: User, item: CapturedItem) -> None:
    # Captured mail is its owner's mailbox (salesmgmt.visibility.captured_items_visible).
    if item.owner_id != actor.pk:
        raise PermissionDeniedError("Only the person who captured it can file or delete it.")


@transaction.atomic
def captured_item_file(
    *, actor: User, item: CapturedItem, opportunity: Opportunity
) -> CapturedItem:
    """File an unfiled item on an open deal the person sees (one click on the unfiled list)."""
    _ensure_own(actor, item)
    item = CapturedItem.objects.select_for_update().get(pk=item.pk)
    if item.status != CapturedItem.Status.UNFILED:
        raise ValidationError("This item is already filed or deleted.")
    if not Opportunity.objects.visible_to(actor).open().filter(pk=opportunity.pk).exists():
        raise ValidationError({"opportunity": "Choose an open deal you can see."})
    return file_item(actor=actor, item=item, deal=opportunity)


@transaction.atomic
def captured_item_delete(*, actor: User, item: CapturedItem) -> CapturedItem:
    """Forget a captured item and remove its activity; a re-delivered copy stays ignored."""
    _ensure_own(actor, item)
    item = CapturedItem.objects.select_for_update().get(pk=item.pk)
    if item.activity is not None:
        accounts_services.activity_delete(actor=actor, activity=item.activity)
    item.activity = None
    item.status = CapturedItem.Status.DELETED
    item.sender, item.recipients, item.subject, item.excerpt = "", [], "", ""
    item.account = None
    item.save()
    item.contacts.clear()
    return item
