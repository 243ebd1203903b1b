"""Documentation compliance: the one definition, used by coaching pages and compensation.

A rep's score as of a day is the share of their open deals that pass every check:

- ``next_step``: the deal has a next step written down;
- ``evidence``: every completed milestone has evidence (the latest record of each milestone,
  when it is a completion, has non-empty evidence);
- ``recent_activity``: an activity was logged on the deal in the last 14 days
  (``as_of - 14 days`` at midnight up to the end of ``as_of``, and never past now: a meeting
  scheduled for later is not work done yet, ``ActivityQuerySet.held``);
- ``close_date``: the expected close date is not in the past (``>= as_of``).

A rep with no open deals has nothing undocumented and scores 1 (100 %). Open means open now
and created by the end of ``as_of``; the checks read the current records, so a score "as of"
an earlier day is an approximation of what it was then.

Computed for any number of reps with three queries (open deals, milestone records,
recent activities). Compensation and the rep's coaching page (which lists the failing deals)
compute it live; the team dashboard reads it precomputed (coaching.models.compliance, kept
fresh by coaching.services.compliance).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from accounts.models import Activity, MilestoneCompletion, Opportunity
from accounts.stages import current_completions

ACTIVITY_WINDOW_DAYS = 14


class Check:
    NEXT_STEP = "next_step"
    EVIDENCE = "evidence"
    RECENT_ACTIVITY = "recent_activity"
    CLOSE_DATE = "close_date"

    ALL = (NEXT_STEP, EVIDENCE, RECENT_ACTIVITY, CLOSE_DATE)
    LABELS = {
        NEXT_STEP: "Has a next step",
        EVIDENCE: "Evidence on every completed milestone",
        RECENT_ACTIVITY: f"Activity in the last {ACTIVITY_WINDOW_DAYS} days",
        CLOSE_DATE: "Close date not in the past",
    }


@dataclass
class ComplianceScore:
    """One rep's score with the records failing each check."""

    user_id: int
    as_of: dt.date
    open_deals: list[Opportunity] = field(default_factory=list)
    # check → the open deals failing it
    failing: dict[str, list[Opportunity]] = field(default_factory=dict)
    # completions (latest record of their milestone) without evidence
    missing_evidence: list[MilestoneCompletion] = field(default_factory=list)

    @property
    def open_deal_count(self) -> int:
        return len(self.open_deals)

    @property
    def failing_deal_ids(self) -> set[int]:
        return {deal.pk for deals in self.failing.values() for deal in deals}

    @property
    def passing_count(self) -> int:
        return self.open_deal_count - len(self.failing_deal_ids)

    @property
    def score(self) -> Decimal:
        """Passing share as a fraction (1 = 100 %), at full precision."""
        if not self.open_deals:
            return Decimal(1)
        return Decimal(self.passing_count) / Decimal(self.open_deal_count)


def _day_bounds(as_of: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """From midnight 14 days before ``as_of`` to the end of ``as_of``, in the local zone."""
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(as_of - dt.timedelta(days=ACTIVITY_WINDOW_DAYS), dt.time.min)
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time.min)
    return timezone.make_aware(start, zone), timezone.make_aware(end, zone)


def compliance_scores(
    *, user_ids: Iterable[int], as_of: dt.date, now: dt.datetime | None = None
) -> dict[int, ComplianceScore]:
    """Each rep's score as of ``as_of`` (three queries, whatever the number of reps or deals);
    activities count once held by ``now`` (default: this moment)."""
    user_ids = list(user_ids)
    window_start, day_end = _day_bounds(as_of)
    scores = {uid: ComplianceScore(user_id=uid, as_of=as_of) for uid in user_ids}
    deals_qs = Opportunity.objects.filter(
        owner_id__in=user_ids, status=Opportunity.Status.OPEN, created_at__lt=day_end
    )
    deals = list(deals_qs.select_related("account").order_by("expected_close_on", "id"))
    if not deals:
        return scores
    deal_ids = deals_qs.values("pk")
    records = (
        MilestoneCompletion.objects.filter(opportunity_id__in=deal_ids)
        .select_related("milestone")
        .order_by("completed_at", "id")
    )
    by_deal: dict[int, list[MilestoneCompletion]] = defaultdict(list)
    for record in records:
        by_deal[record.opportunity_id].append(record)
    active_ids = set(
        Activity.objects.held(now=now or timezone.now())
        .filter(opportunity_id__in=deal_ids, occurred_at__gte=window_start, occurred_at__lt=day_end)
        .values_list("opportunity_id", flat=True)
        .distinct()
    )
    for deal in deals:
        score = scores[deal.owner_id]
        score.open_deals.append(deal)
        undocumented = [
            record
            for record in current_completions(by_deal.get(deal.pk, [])).values()
            if record.action == MilestoneCompletion.Action.COMPLETE and not record.evidence.strip()
        ]
        score.missing_evidence += undocumented
        failed = {
            Check.NEXT_STEP: not deal.next_step.strip(),
            Check.EVIDENCE: bool(undocumented),
            Check.RECENT_ACTIVITY: deal.pk not in active_ids,
            Check.CLOSE_DATE: deal.expected_close_on < as_of,
        }
        for check, is_failing in failed.items():
            if is_failing:
                score.failing.setdefault(check, []).append(deal)
    return scores


def compliance_score(*, user_id: int, as_of: dt.date) -> ComplianceScore:
    return compliance_scores(user_ids=[user_id], as_of=as_of)[user_id]
