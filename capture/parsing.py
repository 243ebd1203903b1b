"""Reading a raw message (pure: bytes in, a small record out; no database).

Only headers and the first text part are read; attachments are skipped unread, so their
content never reaches the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from .models import EXCERPT_CHARS

DEAL_TAG = re.compile(r"#(\d{1,18})\b")
CAPTURE_LOCAL = re.compile(r"^log\+([0-9a-f]{8,32})$")


@dataclass(frozen=True)
class Address:
    name: str
    email: str

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]


@dataclass(frozen=True)
class ParsedMail:
    message_key: str
    sender: Address | None
    recipients: tuple[Address, ...]
    subject: str
    sent_at: dt.datetime | None
    excerpt: str
    in_reply_to: str

    @property
    def deal_tag(self) -> int | None:
        """The deal id named ``#<id>`` in the subject, which files the mail on that deal."""
        match = DEAL_TAG.search(self.subject)
        return int(match.group(1)) if match else None


def capture_token(address: str, *, domain: str) -> str | None:
    """The token of a capture address ``log+<token>@<domain>``, or None for any other address."""
    local, _, at_domain = address.strip().lower().rpartition("@")
    if at_domain != domain.lower():
        return None
    match = CAPTURE_LOCAL.match(local)
    return match.group(1) if match else None


def key_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


def _addresses(message: EmailMessage, *headers: str) -> tuple[Address, ...]:
    values = [str(value) for header in headers for value in message.get_all(header, [])]
    seen: dict[str, Address] = {}
    for name, email in getaddresses(values):
        email = email.strip().lower()
        if "@" in email and email not in seen:
            seen[email] = Address(name=name.strip(), email=email)
    return tuple(seen.values())


def _sent_at(message: EmailMessage) -> dt.datetime | None:
    try:
        sent = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        return None
    # A Date without a zone (RFC 5322 says -0000: unknown) is read as UTC.
    return sent.replace(tzinfo=dt.UTC) if sent and sent.tzinfo is None else sent


def _excerpt(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    try:
        text = body.get_content()
    except (LookupError, ValueError):
        return ""
    if body.get_content_subtype() == "html":
        text = re.sub(r"<[^>]+>", " ", text)
    return " ".join(str(text).split())[:EXCERPT_CHARS]


def parse_mail(raw: bytes) -> ParsedMail:
    """The parts of ``raw`` that capture keeps; a message without a Message-ID is keyed by
    its sender, date and subject, so a re-delivery is still recognised."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    if not isinstance(message, EmailMessage):  # policy.default always builds EmailMessage
        raise TypeError("expected an EmailMessage")
    senders = _addresses(message, "From")
    subject = " ".join(str(message["Subject"] or "").split())[:255]
    message_id = str(message["Message-ID"] or "").strip()
    fallback = f"{senders[0].email if senders else ''}|{message['Date']}|{subject}"
    return ParsedMail(
        message_key=key_of(message_id or fallback),
        sender=senders[0] if senders else None,
        recipients=_addresses(message, "To", "Cc", "Bcc"),
        subject=subject,
        sent_at=_sent_at(message),
        excerpt=_excerpt(message),
        in_reply_to=str(message["In-Reply-To"] or "").strip(),
    )
