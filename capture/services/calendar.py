"""Calendar capture: subscriptions, and reading a calendar (a feed or an uploaded file) into
Meeting activities: new occurrences added, moved ones updated, cancelled or gone ones removed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import services as accounts_services
from salesmgmt import webhook_destinations
from salesmgmt.models import User

from .. import locks
from ..calendar import CalendarError, Occurrence, parse_calendar
from ..models import CalendarSubscription, CapturedItem, CaptureSettings
from ..parsing import DEAL_TAG
from .mail import activity_notes, contacts_for, deal_for, file_item, outside_participants
from .privacy import capture_settings_ensure


@dataclass(frozen=True)
class CalendarReadResult:
    created: int = 0
    updated: int = 0
    removed: int = 0


def calendar_window(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The occurrences a read looks at: recent past and near future (settings, in days)."""
    now = now or timezone.now()
    return (
        now - dt.timedelta(days=settings.CAPTURE_CALENDAR_PAST_DAYS),
        now + dt.timedelta(days=settings.CAPTURE_CALENDAR_FUTURE_DAYS),
    )


@transaction.atomic
def calendar_subscription_add(*, user: User, url: str, name: str = "") -> CalendarSubscription:
    """Subscribe a calendar by its ICS URL (the webhooks' address policy: 400 on ``url``)."""
    capture_settings_ensure(user=user)
    webhook_destinations.validate_url(url)
    if CalendarSubscription.objects.filter(owner=user, url=url).exists():
        raise ValidationError({"url": "You already subscribed this calendar."})
    subscription = CalendarSubscription(owner=user, url=url, name=name[:120])
    subscription.full_clean()
    subscription.save()
    from ..tasks import capture_calendar_fetch  # tasks call services: imported when used

    pk = subscription.pk
    transaction.on_commit(lambda: capture_calendar_fetch.delay(pk))
    return subscription


@transaction.atomic
def calendar_subscription_remove(*, user: User, subscription: CalendarSubscription) -> None:
    """Stop reading the calendar; meetings already captured from it stay."""
    if subscription.owner_id != user.pk:
        raise ValidationError("No such calendar subscription.")
    subscription.delete()


def _remove(actor: User, item: CapturedItem) -> None:
    if item.activity is not None:
        accounts_services.activity_delete(actor=actor, activity=item.activity)
    item.delete()


def _update(actor: User, item: CapturedItem, occurrence: Occurrence) -> bool:
    """Follow a moved or renamed occurrence; whether anything changed."""
    if (item.occurred_at, item.duration_minutes, item.subject) == (
        occurrence.starts_at,
        occurrence.minutes,
        occurrence.summary,
    ):
        return False
    item.occurred_at, item.duration_minutes = occurrence.starts_at, occurrence.minutes
    item.subject = occurrence.summary
    item.save()
    if item.activity is not None:
        accounts_services.activity_update(
            actor=actor,
            activity=item.activity,
            occurred_at=item.occurred_at,
            duration_minutes=item.duration_minutes,
            notes=activity_notes(item),
        )
    return True


def _create(
    owner: User,
    capture: CaptureSettings,
    occurrence: Occurrence,
    subscription: CalendarSubscription | None,
) -> bool:
    """A meeting for a new occurrence with someone outside; whether one was made."""
    everyone = [*([occurrence.organizer] if occurrence.organizer else []), *occurrence.attendees]
    outside = outside_participants(everyone, capture)
    if not outside:
        return False  # internal meetings, personal appointments
    contacts = contacts_for(owner=owner, addresses=outside)
    item = CapturedItem.objects.create(
        owner=owner,
        kind=CapturedItem.Kind.MEETING,
        status=CapturedItem.Status.UNFILED,
        message_key=occurrence.occurrence_key,
        series_key=occurrence.series_key,
        subscription=subscription,
        sender=occurrence.organizer.email if occurrence.organizer else "",
        recipients=[address.email for address in occurrence.attendees],
        subject=occurrence.summary,
        occurred_at=occurrence.starts_at,
        duration_minutes=occurrence.minutes,
        account=contacts[0].account if contacts else None,
    )
    item.contacts.set(contacts)
    deal = deal_for(owner=owner, contacts=contacts, tag=_tag(occurrence.summary))
    if deal is not None:
        file_item(actor=owner, item=item, deal=deal)
    return True


def _tag(summary: str) -> int | None:
    match = DEAL_TAG.search(summary)
    return int(match.group(1)) if match else None


@transaction.atomic
def calendar_read(
    *, owner: User, data: bytes, subscription: CalendarSubscription | None = None
) -> CalendarReadResult:
    """Bring the owner's meetings in line with the calendar ``data`` within the window:
    new occurrences captured, moved ones updated, those gone or cancelled removed (of this
    subscription's events, or of the events in the file). Re-reading changes nothing."""
    start, end = calendar_window()
    try:
        series, occurrences = parse_calendar(data, start=start, end=end)
    except CalendarError as error:
        raise ValidationError({"file": str(error)}) from None
    capture_settings_ensure(user=owner)
    capture = locks.lock_capture_settings(owner.pk)
    if capture.is_paused:
        return CalendarReadResult()
    scope = CapturedItem.objects.filter(
        owner=owner, kind=CapturedItem.Kind.MEETING, occurred_at__range=(start, end)
    )
    in_file = scope.filter(series_key__in=series)
    if subscription is not None:
        in_file = in_file | scope.filter(subscription=subscription)
    known = {item.message_key: item for item in in_file.select_related("activity")}
    created = updated = 0
    seen: set[str] = set()
    for occurrence in occurrences:
        seen.add(occurrence.occurrence_key)
        item = (
            known.get(occurrence.occurrence_key)
            or CapturedItem.objects.filter(
                owner=owner, message_key=occurrence.occurrence_key
            ).first()
        )
        if item is None:
            created += _create(owner, capture, occurrence, subscription)
        elif item.status != CapturedItem.Status.DELETED:
            updated += _update(owner, item, occurrence)
    gone = [i for key, i in known.items() if key not in seen and i.status != "deleted"]
    for item in gone:
        _remove(owner, item)
    return CalendarReadResult(created=created, updated=updated, removed=len(gone))


def calendar_upload(*, user: User, data: bytes) -> CalendarReadResult:
    """An uploaded ``.ics`` file, read like a feed (uploading it again changes nothing)."""
    return calendar_read(owner=user, data=data)


def calendar_subscription_fetch(*, subscription: CalendarSubscription) -> CalendarReadResult:
    """Fetch the feed (the webhooks' outbound address policy) and read it; a failure is kept
    on the subscription for its owner to see, and the next scheduled fetch tries again."""
    data, error = webhook_destinations.get(
        subscription.url, max_bytes=settings.CAPTURE_CALENDAR_MAX_BYTES
    )
    result = CalendarReadResult()
    if data is not None:
        try:
            result = calendar_read(owner=subscription.owner, data=data, subscription=subscription)
        except ValidationError as invalid:
            error = " ".join(invalid.messages)
    CalendarSubscription.objects.filter(pk=subscription.pk).update(
        last_fetched_at=timezone.now(), last_error=error[:255], updated_at=timezone.now()
    )
    return result
