"""Reading an iCalendar file (pure: bytes in, the meeting occurrences of a window out).

Recurrences are expanded by ``recurring-ical-events``: a moved occurrence (an override with
a RECURRENCE-ID) keeps its original start as its key, so it updates the meeting it was; an
EXDATE or an override with STATUS:CANCELLED leaves it out, so its meeting is removed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import icalendar
import recurring_ical_events
from django.utils import timezone

from .parsing import Address, key_of


class CalendarError(ValueError):
    """The file is not an iCalendar file we can read."""


@dataclass(frozen=True)
class Occurrence:
    series_key: str
    occurrence_key: str
    summary: str
    starts_at: dt.datetime
    minutes: int
    organizer: Address | None
    attendees: tuple[Address, ...]


def _aware(value: dt.datetime) -> dt.datetime:
    # A floating time (no zone) is the company's local time.
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _address(value: object) -> Address | None:
    text = str(value or "")
    email = text[7:] if text.lower().startswith("mailto:") else text
    email = email.strip().lower()
    if "@" not in email:
        return None
    params = getattr(value, "params", {}) or {}
    return Address(name=str(params.get("CN", "")).strip(), email=email)


def _attendees(event: icalendar.Event) -> tuple[Address, ...]:
    raw = event.get("ATTENDEE") or []
    values = raw if isinstance(raw, list) else [raw]
    found = [_address(value) for value in values]
    return tuple(dict.fromkeys(a for a in found if a is not None))


def _occurrence(event: icalendar.Event) -> Occurrence | None:
    start = event.get("DTSTART")
    if start is None or not isinstance(start.dt, dt.datetime):
        return None  # all-day entries (holidays, out of office) are not meetings
    starts_at = _aware(start.dt)
    end = event.get("DTEND")
    ends_at = _aware(end.dt) if end is not None and isinstance(end.dt, dt.datetime) else starts_at
    original = event.get("RECURRENCE-ID")
    original_at = _aware(original.dt) if original is not None else starts_at
    uid = str(event.get("UID") or "")
    return Occurrence(
        series_key=key_of(uid),
        occurrence_key=key_of(f"{uid}|{original_at.astimezone(dt.UTC).isoformat()}"),
        summary=" ".join(str(event.get("SUMMARY") or "").split())[:255],
        starts_at=starts_at,
        minutes=max(0, int((ends_at - starts_at).total_seconds() // 60)),
        organizer=_address(event.get("ORGANIZER")),
        attendees=_attendees(event),
    )


def parse_calendar(
    data: bytes, *, start: dt.datetime, end: dt.datetime
) -> tuple[set[str], list[Occurrence]]:
    """The series keys of every event in the file, and its timed, not cancelled occurrences
    between ``start`` and ``end``."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
        series = {key_of(str(event.get("UID") or "")) for event in calendar.walk("VEVENT")}
        events = recurring_ical_events.of(calendar).between(start, end)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise CalendarError(f"Not a readable iCalendar file ({error}).") from None
    occurrences = [
        occurrence
        for event in events
        if str(event.get("STATUS") or "").upper() != "CANCELLED"
        and (occurrence := _occurrence(event)) is not None
    ]
    return series, occurrences
