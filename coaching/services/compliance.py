"""Keeping the precomputed compliance summaries fresh (coaching.models.compliance).

Every change a score depends on calls ``compliance_mark_changed`` inside its transaction
(accounts.services: a deal opened, edited, won or lost, a milestone completed or undone, an
activity logged on a deal). That inserts a ComplianceChange marker per person (an insert:
writers never wait on each other or on a refresh) and, once committed, queues a refresh
REFRESH_DELAY_SECONDS later, so a burst of edits is covered by the first refresh that runs
after it and the rest find nothing to do. A refresh reads the committed markers before its
inputs, recomputes those people with the live computation (coaching.compliance), and in one
short transaction stores their summaries and deletes exactly the markers it read: a change
committing meanwhile keeps its marker for the next run. Running it twice leaves the same rows.

The five-minute sweep re-runs what a lost message left and recomputes summaries from before
today (the activity window and the close-date check move at midnight); the nightly forced
run picks up writes that bypass the services (admin, imports, bulk updates) and gives new
sellers a summary. Staleness bound, while a worker is up: ~REFRESH_DELAY_SECONDS plus one
refresh after a change through the services; five minutes if the message was lost or the
day rolled over; a day for writes outside the services. A person without a summary is
computed live by the dashboard, which queues their first refresh.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from salesmgmt.models import Role, User
from salesmgmt.task_queue import enqueue

from .. import locks
from ..compliance import Check, ComplianceScore, compliance_scores
from ..models import ComplianceChange, ComplianceSummary

logger = logging.getLogger(__name__)

# Seconds between a change and its refresh: edits made together are covered by one run.
REFRESH_DELAY_SECONDS = 5
# People per computation: bounds the deals, records and activities held in memory at once.
CHUNK = 200
SELLING_ROLES = (Role.REP, Role.MANAGER, Role.EXECUTIVE)


def compliance_mark_changed(*, user_ids: Iterable[int | None]) -> list[ComplianceChange]:
    """Record a change to these people's compliance inputs; refresh them after commit.

    Runs inside the caller's transaction (one insert); returns the markers written.
    """
    ids = sorted({uid for uid in user_ids if uid is not None})
    if not ids:
        return []
    markers = ComplianceChange.objects.bulk_create([ComplianceChange(user_id=uid) for uid in ids])
    # robust: with the broker down the change still succeeds; the sweep catches up.
    transaction.on_commit(_schedule_refresh, robust=True)
    return markers


def _schedule_refresh() -> None:
    from ..tasks import refresh_compliance

    enqueue(refresh_compliance, countdown=REFRESH_DELAY_SECONDS)


def compliance_refresh(*, user_ids: Iterable[int] | None = None, force: bool = False) -> list[int]:
    """Recompute the stale summaries (of ``user_ids``, else everyone's); the user ids done.

    Stale: a change marked since, computed before today, or never computed (for
    ``user_ids``: a first view). ``force`` recomputes every active seller (or ``user_ids``)
    anyway: the nightly run, seeding.
    """
    today = timezone.localdate()
    # Read before any input: every change whose marker is read here is in what follows.
    read_at = timezone.now()
    markers = ComplianceChange.objects.all()
    summaries = ComplianceSummary.objects.filter(as_of__lt=today)
    wanted: set[int] = set()
    if user_ids is not None:
        wanted = set(user_ids)
        markers = markers.filter(user_id__in=wanted)
        summaries = ComplianceSummary.objects.filter(user_id__in=wanted)
    marker_ids: dict[int, list[int]] = defaultdict(list)
    for pk, uid in markers.values_list("pk", "user_id"):
        marker_ids[uid].append(pk)
    if force:
        people = wanted or set(
            User.objects.filter(is_active=True, role__in=SELLING_ROLES).values_list("pk", flat=True)
        )
    elif user_ids is not None:
        current = set(summaries.filter(as_of=today).values_list("user_id", flat=True))
        people = (wanted - current) | set(marker_ids)
    else:
        people = set(marker_ids) | set(summaries.values_list("user_id", flat=True))
    ids = sorted(people | set(marker_ids))
    refreshed: list[int] = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        scores = compliance_scores(user_ids=chunk, as_of=today)
        refreshed += _summaries_save(
            scores=scores,
            read_at=read_at,
            marker_ids=[pk for uid in chunk for pk in marker_ids.get(uid, [])],
        )
    if refreshed:
        logger.info("compliance: %s summaries refreshed as of %s", len(refreshed), today)
    return refreshed


@transaction.atomic
def _summaries_save(
    *, scores: dict[int, ComplianceScore], read_at: dt.datetime, marker_ids: list[int]
) -> list[int]:
    """Store ``scores`` and delete the markers they cover (short: no computing here)."""
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
    ComplianceChange.objects.filter(pk__in=marker_ids).delete()
    return [row.user_id for row in changed]


SUMMARY_FIELDS = [
    "computed_at", "as_of", "open_deal_count", "passing_count", "failing_next_step",
    "failing_evidence", "failing_recent_activity", "failing_close_date",
    "missing_evidence_count", "updated_at",
]  # fmt: skip
