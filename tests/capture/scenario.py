"""A rep's customer and deals, and the mail thread the capture tests deliver."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime

from django.utils import timezone

from accounts.models import Account, Contact, Opportunity
from coaching.models import ComplianceSummary
from forecasting.models import InspectionFlag
from forecasting.services.flags import flags_refresh
from salesmgmt import refresh
from tests.factories import AccountFactory, ActivityFactory, ContactFactory, OpportunityFactory

SENT = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def raw_mail(
    *,
    sender: str,
    to: list[str],
    subject: str,
    message_id: str,
    body: str = "Hello,\n\nSee the attached proposal.\n",
    sent: dt.datetime = SENT,
    bcc: list[str] | None = None,
    in_reply_to: str = "",
    attachment: bytes | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    if bcc:
        message["Bcc"] = ", ".join(bcc)
    message["Subject"] = subject
    message["Date"] = format_datetime(sent)
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    message.set_content(body)
    if attachment is not None:
        message.add_attachment(
            attachment, maintype="application", subtype="pdf", filename="proposal.pdf"
        )
    return message.as_bytes()


def flags_of(deal: Opportunity) -> dict[str, str]:
    """The deal's inspection flags (kind → detail) after a refresh of every flag."""
    flags_refresh()
    return dict(InspectionFlag.objects.filter(opportunity=deal).values_list("kind", "detail"))


def compliance_of(rep) -> ComplianceSummary:
    """The rep's compliance after the refresh path has run what is marked stale (by this
    process or by a worker's capture)."""
    refresh.changed(people=[rep.pk], kinds=["compliance"])
    refresh.refresh_kind(kind="compliance")
    return ComplianceSummary.objects.get(user=rep)


@dataclass
class Customer:
    account: Account
    buyer: Contact
    older_deal: Opportunity  # the most recently active deal before the thread
    tagged_deal: Opportunity  # the deal the thread names with #<id>


def customer_of(rep, *, last_active_days: int = 1) -> Customer:
    """``last_active_days``: how long ago the most recently active deal had its last
    activity (a call with no outcome recorded: the seller's side only)."""
    account = AccountFactory(owner=rep, name="Acme", domain="acme.example")
    buyer = ContactFactory(account=account, email="buyer@acme.example")
    older = OpportunityFactory(owner=rep, account=account, name="Acme renewal")
    tagged = OpportunityFactory(owner=rep, account=account, name="Acme expansion")
    now = timezone.now()
    ActivityFactory(
        owner=rep,
        account=account,
        opportunity=older,
        occurred_at=now - dt.timedelta(last_active_days),
    )
    ActivityFactory(
        owner=rep, account=account, opportunity=tagged, occurred_at=now - dt.timedelta(60)
    )
    return Customer(account=account, buyer=buyer, older_deal=older, tagged_deal=tagged)


def thread(rep, customer: Customer, *, sent: dt.datetime = SENT) -> list[bytes]:
    """Three messages: the rep's with a #deal tag, an unknown colleague's reply at the
    customer's domain, and a personal one from a gmail address; the first sent at ``sent``."""
    deal = customer.tagged_deal
    return [
        raw_mail(
            sender=f"Rep A <{rep.email}>",
            to=["Bea Buyer <buyer@acme.example>"],
            subject=f"Proposal #{deal.pk}",
            message_id="<m1@rep.example>",
            attachment=b"%PDF-1.4 secret price list",
            sent=sent,
        ),
        raw_mail(
            sender="Nina Newman <nina.newman@acme.example>",
            to=[rep.email],
            subject="Re: Proposal",
            message_id="<m2@acme.example>",
            in_reply_to="<m1@rep.example>",
            body="Thanks, we will review it on Friday.",
            sent=sent + dt.timedelta(hours=3),
        ),
        raw_mail(
            sender="Pat Friend <pat@gmail.com>",
            to=[rep.email],
            subject="Dinner on Saturday?",
            message_id="<m3@gmail.com>",
            sent=sent + dt.timedelta(hours=4),
        ),
    ]


def unknown_mail(rep) -> bytes:
    """From a company no account has the domain of: waits in the unfiled list."""
    return raw_mail(
        sender="Olga Other <olga@other.example>",
        to=[rep.email],
        subject="Intro call",
        message_id="<m4@other.example>",
        sent=SENT + dt.timedelta(hours=5),
    )


def _ics_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def weekly_base() -> dt.datetime:
    """The first of four weekly meetings: three weeks ago at 09:00 UTC (inside the window;
    a whole day, so two feeds built during one test agree)."""
    return (timezone.now() - dt.timedelta(days=21)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )


def weekly_feed(rep, *, moved_and_cancelled: bool) -> bytes:
    """A weekly customer meeting (4 occurrences), an internal meeting and a personal one; the
    second version moves the 2nd occurrence a day later and cancels the 3rd."""
    base = weekly_base()
    week = dt.timedelta(days=7)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//salesmgmt tests//EN",
        "BEGIN:VEVENT",
        "UID:weekly-sync@acme.example",
        f"DTSTART:{_ics_time(base)}",
        f"DTEND:{_ics_time(base + dt.timedelta(minutes=30))}",
        "RRULE:FREQ=WEEKLY;COUNT=4",
        "SUMMARY:Acme weekly sync",
        f"ORGANIZER;CN=Rep:mailto:{rep.email}",
        "ATTENDEE;CN=Bea Buyer:mailto:buyer@acme.example",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:team-standup@example.com",
        f"DTSTART:{_ics_time(base + dt.timedelta(hours=2))}",
        f"DTEND:{_ics_time(base + dt.timedelta(hours=3))}",
        "SUMMARY:Team standup",
        f"ORGANIZER:mailto:{rep.email}",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:dentist@gmail.com",
        f"DTSTART:{_ics_time(base + dt.timedelta(hours=5))}",
        f"DTEND:{_ics_time(base + dt.timedelta(hours=6))}",
        "SUMMARY:Dentist",
        "ATTENDEE:mailto:front.desk@gmail.com",
        "END:VEVENT",
    ]
    if moved_and_cancelled:
        lines += [
            "BEGIN:VEVENT",
            "UID:weekly-sync@acme.example",
            f"RECURRENCE-ID:{_ics_time(base + week)}",
            f"DTSTART:{_ics_time(base + week + dt.timedelta(days=1, hours=1))}",
            f"DTEND:{_ics_time(base + week + dt.timedelta(days=1, hours=2))}",
            "SUMMARY:Acme weekly sync (moved)",
            "ATTENDEE;CN=Bea Buyer:mailto:buyer@acme.example",
            "END:VEVENT",
            "BEGIN:VEVENT",
            "UID:weekly-sync@acme.example",
            f"RECURRENCE-ID:{_ics_time(base + 2 * week)}",
            f"DTSTART:{_ics_time(base + 2 * week)}",
            f"DTEND:{_ics_time(base + 2 * week + dt.timedelta(minutes=30))}",
            "STATUS:CANCELLED",
            "SUMMARY:Acme weekly sync",
            "END:VEVENT",
        ]
    return ("\r\n".join([*lines, "END:VCALENDAR"]) + "\r\n").encode()
