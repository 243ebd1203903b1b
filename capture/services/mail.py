"""Capturing one message: who is outside, which contacts and deal, an activity or unfiled."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from accounts import services as accounts_services
from accounts.models import Activity, Contact, Opportunity
from salesmgmt.models import User

from .. import locks, selectors
from ..models import CapturedItem, CaptureSettings
from ..parsing import Address, ParsedMail, parse_mail
from .privacy import capture_settings_ensure


def outside_participants(everyone: list[Address], capture: CaptureSettings) -> list[Address]:
    """The participants who are neither the company's people nor at an excluded domain."""
    internal = selectors.internal_addresses(address.email for address in everyone)
    excluded = set(capture.excluded_domains)
    return [
        address
        for address in everyone
        if address.email not in internal and address.domain not in excluded
    ]


def _new_contact_names(address: Address) -> tuple[str, str]:
    words = address.name.replace('"', "").split()
    if len(words) >= 2:
        return " ".join(words[:-1])[:80], words[-1][:80]
    local = address.email.partition("@")[0]
    return (words[0] if words else local)[:80], "—"


def contacts_for(*, owner: User, addresses: list[Address]) -> list[Contact]:
    """A contact per outside address: the owner's visible contact with that address, else a
    new contact on the visible account whose domain it is (contact_create checks the owner
    may add contacts there); addresses of no known account stay unmatched."""
    known = selectors.contacts_by_email(viewer=owner, emails=[a.email for a in addresses])
    contacts: list[Contact] = []
    for address in addresses:
        contact = known.get(address.email)
        if contact is None:
            account = selectors.account_for_domain(viewer=owner, domain=address.domain)
            if account is None:
                continue
            first_name, last_name = _new_contact_names(address)
            contact = accounts_services.contact_create(
                actor=owner,
                account=account,
                first_name=first_name,
                last_name=last_name,
                email=address.email,
            )
        contacts.append(contact)
    return contacts


def deal_for(*, owner: User, contacts: list[Contact], tag: int | None) -> Opportunity | None:
    """The ``#<id>`` deal of the subject when the owner sees it open; else the most recently
    active open deal of the matched contacts' accounts."""
    if tag is not None:
        tagged = selectors.open_deal_named(viewer=owner, pk=tag)
        if tagged is not None:
            return tagged
    account_ids = list(dict.fromkeys(contact.account_id for contact in contacts))
    return selectors.most_active_open_deal(viewer=owner, account_ids=account_ids)


def activity_notes(item: CapturedItem) -> str:
    lines = [item.subject or "(no subject)"]
    if item.sender:
        lines.append(f"From: {item.sender}")
    if item.recipients:
        lines.append("To: " + ", ".join(item.recipients))
    if item.excerpt:
        lines += ["", item.excerpt]
    return "\n".join(lines)


def file_item(*, actor: User, item: CapturedItem, deal: Opportunity) -> CapturedItem:
    """Log ``item`` as an activity on ``deal`` (on the owner's behalf) and mark it filed."""
    kind, source = (
        (Activity.Kind.EMAIL, Activity.Source.EMAIL)
        if item.kind == CapturedItem.Kind.EMAIL
        else (Activity.Kind.MEETING, Activity.Source.CALENDAR)
    )
    item.activity = accounts_services.activity_log(
        actor=actor,
        owner=item.owner,
        kind=kind,
        opportunity=deal,
        occurred_at=item.occurred_at,
        duration_minutes=item.duration_minutes,
        notes=activity_notes(item),
        source=source,
        direction=item.direction,
        participants=list(item.contacts.all()),
    )
    item.status = CapturedItem.Status.FILED
    item.account = deal.account
    item.save()
    return item


def _direction(mail: ParsedMail, outside: list[Address]) -> str:
    # Received: an outside person wrote it (a reply the person BCC'd or forwarded to capture).
    if mail.sender is not None and mail.sender in outside:
        return CapturedItem.Direction.INBOUND
    return CapturedItem.Direction.OUTBOUND


@transaction.atomic
def captured_mail_record(
    *, owner: User, mail: ParsedMail, received_at: dt.datetime | None = None
) -> CapturedItem | None:
    """Capture ``mail`` for ``owner``: an Email activity on the matched deal, or an unfiled
    item. Nothing when capture is paused or no outside participant is left (internal or
    excluded mail); the item already captured when the same message comes again."""
    capture_settings_ensure(user=owner)
    capture = locks.lock_capture_settings(owner.pk)
    existing = CapturedItem.objects.filter(owner=owner, message_key=mail.message_key).first()
    if capture.is_paused or existing is not None:
        return existing
    everyone = ([mail.sender] if mail.sender else []) + list(mail.recipients)
    outside = outside_participants(everyone, capture)
    if not outside:
        return None
    contacts = contacts_for(owner=owner, addresses=outside)
    deal = deal_for(owner=owner, contacts=contacts, tag=mail.deal_tag)
    item = CapturedItem.objects.create(
        owner=owner,
        kind=CapturedItem.Kind.EMAIL,
        status=CapturedItem.Status.UNFILED,
        direction=_direction(mail, outside),
        message_key=mail.message_key,
        sender=mail.sender.email if mail.sender else "",
        recipients=[address.email for address in mail.recipients],
        subject=mail.subject,
        occurred_at=mail.sent_at or received_at or timezone.now(),
        excerpt=mail.excerpt,
        account=contacts[0].account if contacts else None,
    )
    item.contacts.set(contacts)
    if deal is not None:
        file_item(actor=owner, item=item, deal=deal)
    return item


def captured_mail_receive(*, raw: bytes, recipients: list[str]) -> list[int]:
    """A message the gateway accepted, for each capture address it was sent to: parsed here
    (in the worker), then captured for that address's person in a transaction of its own.
    Returns the captured items' ids (a repeat delivery returns the same ids, creates none)."""
    mail = parse_mail(raw)
    item_ids: list[int] = []
    for address in dict.fromkeys(recipient.lower() for recipient in recipients):
        owner_id = selectors.capture_owner_id(address)
        owner = User.objects.filter(pk=owner_id).first() if owner_id else None
        if owner is None:
            continue  # the address was rotated or its person left since the gateway took it
        item = captured_mail_record(owner=owner, mail=mail, received_at=timezone.now())
        if item is not None:
            item_ids.append(item.pk)
    return item_ids
