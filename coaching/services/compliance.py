"""Keeping the precomputed compliance summaries fresh (coaching.models.compliance).

Compliance is the aggregate kind "compliance" of the one refresh path (salesmgmt.refresh),
keyed by person: (person id, 0). Writers say what they changed (``refresh.changed``): a deal
opened, edited, won or lost, a milestone completed or undone, an activity logged on a deal, a
person created or changed. ``compliance_keys_for`` turns that into the people to recompute (the
owners of the deals and of the activities' deals, read from the rows, and the people named) and
``compliance_refresh_keys`` recomputes them in one batch, a debounce (REFRESH_DEBOUNCE_SECONDS,
5 s) after the first change of a burst, with the live computation (coaching.compliance). A
summary written by a refresh that started reading later is never overwritten; running a batch
twice leaves the same rows.

The refresh path's one-minute sweep runs what a lost message left. Scores also move with the
calendar (the 14-day activity window and the close-date check roll at midnight): every five
minutes ``compliance_mark_rolled_over`` marks the summaries from before today, and the nightly
``compliance_mark_all`` marks every active seller, which picks up writes that bypass the
services (admin, imports, bulk updates). Staleness bound, while a worker is up:
~REFRESH_DEBOUNCE_SECONDS plus one batch after a change through the services; a minute if the
message was lost; five minutes after midnight for the day rollover; a day for writes outside
the services. A person without a summary is computed live by the dashboard (a read: their
creation marks them, so their first summary follows).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from salesmgmt import refresh
from salesmgmt.models import Role, User

from .. import locks
from ..compliance import Check, ComplianceScore, compliance_scores
from ..models import ComplianceSummary

logger = logging.getLogger(__name__)

KIND = "compliance"
# People per computation: bounds the deals, records and activities held in memory at once.
CHUNK = 200
SELLING_ROLES = (Role.REP, Role.MANAGER, Role.EXECUTIVE)


@transaction.atomic
def compliance_mark_all() -> int:
    """Mark every active seller stale (the nightly run)."""
    return refresh.changed(everything=True, kinds=[KIND])


@transaction.atomic
def compliance_mark_rolled_over() -> int:
    """Mark the people whose summary is from before today stale: the activity window and
    the close-date check moved at midnight, which no write says."""
    earlier = ComplianceSummary.objects.filter(as_of__lt=timezone.localdate())
    return refresh.mark_stale(
        kind=KIND, keys=[(pk, 0) for pk in earlier.values_list("user_id", flat=True)]
    )


def _sellers() -> set[int]:
    return set(
        User.objects.filter(is_active=True, role__in=SELLING_ROLES).values_list("pk", flat=True)
    )


def compliance_keys_for(change: refresh.Change) -> list[refresh.Key]:
    """The people whose score ``change`` moves, as (person id, 0) keys.

    Deals count for their owner (read as the writer left them: a deal changing hands is
    named with its previous owner in ``people``), activities for the owner of their deal;
    days and periods are no input of the score (the calendar's own move is the nightly run).
    """
    from accounts.models import Activity, Opportunity

    if change.everything:
        return [(pk, 0) for pk in sorted(_sellers())]
    people = set(change.people)
    if change.deals:
        owners = Opportunity.objects.filter(pk__in=list(change.deals))
        people |= set(owners.values_list("owner_id", flat=True))
    if change.activities:
        deals = Activity.objects.filter(pk__in=list(change.activities), opportunity__isnull=False)
        people |= set(deals.values_list("opportunity__owner_id", flat=True))
    return [(pk, 0) for pk in sorted(people) if pk is not None]


def compliance_refresh_keys(keys: list[refresh.Key]) -> int:
    """Recompute the people of a batch of "compliance" keys; returns the summaries stored."""
    return len(compliance_refresh(user_ids=[person for person, _ in keys if person]))


def compliance_refresh(*, user_ids: Iterable[int] | None = None) -> list[int]:
    """Recompute the summaries of ``user_ids`` (else of every active seller), now; the user
    ids stored. Seeding and the reconciliation's refresh call it for everyone."""
    today = timezone.localdate()
    # Read before any input: a summary stored by a refresh that read later is newer.
    read_at = timezone.now()
    ids = sorted(set(user_ids) if user_ids is not None else _sellers())
    refreshed: list[int] = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        # Someone deleted since their mark has no score to store.
        present = list(User.objects.filter(pk__in=chunk).values_list("pk", flat=True))
        scores = compliance_scores(user_ids=present, as_of=today)
        refreshed += _summaries_save(scores=scores, read_at=read_at)
    if refreshed:
        logger.info("compliance: %s summaries refreshed as of %s", len(refreshed), today)
    return refreshed


@transaction.atomic
def _summaries_save(*, scores: dict[int, ComplianceScore], read_at: dt.datetime) -> list[int]:
    """Store ``scores`` (a short transaction: no computing here)."""
    ComplianceSummary.objects.bulk_create(
        [
            ComplianceSummary(user_id=uid, computed_at=read_at, as_of=s.as_of)
            for uid, s in scores.items()
        ],
        ignore_conflicts=True,
    )
    locks.lock_compliance_summaries(user_ids=list(scores))
    now = timezone.now()
    changed = []
    for row in ComplianceSummary.objects.filter(user_id__in=list(scores)):
        if row.computed_at > read_at:
            continue  # a refresh that started later already stored a newer score
        score = scores[row.user_id]
        failing = {check: len(score.failing.get(check, [])) for check in Check.ALL}
        row.computed_at = read_at
        row.as_of = score.as_of
        row.open_deal_count = score.open_deal_count
        row.passing_count = score.passing_count
        row.failing_next_step = failing[Check.NEXT_STEP]
        row.failing_evidence = failing[Check.EVIDENCE]
        row.failing_recent_activity = failing[Check.RECENT_ACTIVITY]
        row.failing_close_date = failing[Check.CLOSE_DATE]
        row.missing_evidence_count = len(score.missing_evidence)
        row.updated_at = now
        changed.append(row)
    ComplianceSummary.objects.bulk_update(changed, SUMMARY_FIELDS, batch_size=500)
    return [row.user_id for row in changed]


SUMMARY_FIELDS = [
    "computed_at", "as_of", "open_deal_count", "passing_count", "failing_next_step",
    "failing_evidence", "failing_recent_activity", "failing_close_date",
    "missing_evidence_count", "updated_at",
]  # fmt: skip


def register() -> None:
    """Register the "compliance" kind (CoachingConfig.ready)."""
    from django.conf import settings

    refresh.register_kind(
        refresh.AggregateKind(
            name=KIND,
            keys_for=compliance_keys_for,
            refresh=compliance_refresh_keys,
            debounce_seconds=lambda: settings.REFRESH_DEBOUNCE_SECONDS,
        )
    )
