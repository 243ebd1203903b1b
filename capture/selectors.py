"""Reads for capture: whose address a recipient is, the person's unfiled items, matching."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Max, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Account, Contact, Opportunity
from salesmgmt.models import User
from salesmgmt.visibility import captured_items_visible, may_capture

from .models import CalendarSubscription, CapturedItem, CaptureSettings
from .parsing import capture_token


def capture_owner_id(address: str) -> int | None:
    """The person whose capture address ``address`` is (active, allowed to capture), or None."""
    token = capture_token(address, domain=settings.CAPTURE_DOMAIN)
    if token is None:
        return None
    row = (
        CaptureSettings.objects.filter(token=token, user__is_active=True)
        .select_related("user")
        .first()
    )
    return row.user_id if row is not None and may_capture(row.user) else None


def calendar_subscriptions(*, viewer: User) -> QuerySet[CalendarSubscription]:
    """The viewer's own subscribed calendars (a feed URL is as private as the calendar)."""
    return CalendarSubscription.objects.filter(captured_items_visible(viewer))


def capture_settings_of(user: User) -> CaptureSettings | None:
    return CaptureSettings.objects.filter(user=user).first()


def captured_items(*, viewer: User, status: str | None = None) -> QuerySet[CapturedItem]:
    """The viewer's own captured items (never anyone else's: visibility.captured_items_visible)."""
    items = CapturedItem.objects.filter(captured_items_visible(viewer)).exclude(
        status=CapturedItem.Status.DELETED
    )
    if status is not None:
        items = items.filter(status=status)
    return items.select_related("account", "activity__opportunity")


def captured_item_get(*, viewer: User, pk: int) -> CapturedItem | None:
    return captured_items(viewer=viewer).filter(pk=pk).first()


def internal_addresses(emails: Iterable[str]) -> set[str]:
    """Which of ``emails`` are the company's own people (not outside participants)."""
    wanted = {email.lower() for email in emails}
    if not wanted:
        return set()
    found = {
        email.lower()
        for email in User.objects.filter(email__in=wanted).values_list("email", flat=True)
    }
    return found | {email for email in wanted if email.endswith("@" + settings.CAPTURE_DOMAIN)}


def contacts_by_email(*, viewer: User, emails: Iterable[str]) -> dict[str, Contact]:
    """The viewer's visible contacts with these addresses, one per address (oldest first)."""
    contacts: dict[str, Contact] = {}
    rows = Contact.objects.visible_to(viewer).filter(email__in=list(emails)).order_by("pk")
    for contact in rows.select_related("account"):
        contacts.setdefault(contact.email.lower(), contact)
    return contacts


def account_for_domain(*, viewer: User, domain: str) -> Account | None:
    """The viewer's visible account whose mail domain is ``domain`` (oldest when several)."""
    return Account.objects.visible_to(viewer).filter(domain__iexact=domain).order_by("pk").first()


def open_deal_named(*, viewer: User, pk: int) -> Opportunity | None:
    return Opportunity.objects.visible_to(viewer).open().filter(pk=pk).first()


def most_active_open_deal(*, viewer: User, account_ids: list[int]) -> Opportunity | None:
    """Of these accounts' open deals the viewer sees, the one with the latest activity held
    (a meeting scheduled for later is not activity yet; else the latest edited): where the
    conversation most likely belongs."""
    if not account_ids:
        return None
    held = Q(activities__occurred_at__lte=timezone.now())
    return (
        Opportunity.objects.visible_to(viewer)
        .open()
        .filter(account_id__in=account_ids)
        .annotate(last_active=Coalesce(Max("activities__occurred_at", filter=held), "updated_at"))
        .order_by("-last_active", "-pk")
        .first()
    )


FILING_CHOICES_MAX = 200


@dataclass(frozen=True)
class FilingRow:
    item: CapturedItem
    deals: list[Opportunity]  # the item's account's open deals first: the first is one click


def filing_rows(*, viewer: User, items: list[CapturedItem]) -> list[FilingRow]:
    """Each unfiled item with the deals it may be filed on, in one query for the whole page:
    open deals the viewer sees that are theirs or of an account an item came from."""
    account_ids = {item.account_id for item in items if item.account_id}
    deals = list(
        Opportunity.objects.visible_to(viewer)
        .open()
        .filter(Q(account_id__in=account_ids) | Q(owner=viewer))
        .select_related("account")
        .order_by("-updated_at", "-pk")[:FILING_CHOICES_MAX]
    )
    return [
        # sorted() is stable: most recently updated first within each group
        FilingRow(item=item, deals=sorted(deals, key=lambda d: d.account_id != item.account_id))
        for item in items
    ]
