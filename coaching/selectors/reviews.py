"""Reads for account reviews: the walk-through page, scorecards and qualification scores."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from accounts.models import (
    Account,
    Activity,
    Contact,
    Milestone,
    MilestoneCompletion,
    Opportunity,
    Stage,
)
from accounts.selectors import MilestoneRow, StageChecklist
from accounts.stages import current_completions
from salesmgmt.models import User

from ..models import (
    MAX_RATING,
    AccountReview,
    ActionItem,
    CompetitorPosition,
    NegotiationItem,
    OpportunityScore,
    ProofResource,
    ReviewNotesRevision,
    ScorecardCriterion,
    ScorecardTemplate,
)


def qualification_percent(ratings: list[int | None], criteria_count: int) -> int:
    """Sum of ratings over 5 per criterion, in whole percent (half up); unrated count 0."""
    if not criteria_count:
        return 0
    total = sum(rating or 0 for rating in ratings)
    return int(100 * total / (MAX_RATING * criteria_count) + 0.5)


def template_list() -> QuerySet[ScorecardTemplate]:
    return ScorecardTemplate.objects.prefetch_related(
        Prefetch("criteria", queryset=ScorecardCriterion.objects.order_by("order", "id"))
    ).order_by("name", "id")


def templates_by_process(*, process_ids: set[int]) -> dict[int, ScorecardTemplate | None]:
    """Each process's scorecard template, else the default one, criteria loaded (2 queries)."""
    templates = list(template_list().filter(Q(process_id__in=process_ids) | Q(is_default=True)))
    fallback = next((t for t in templates if t.is_default), None)
    return {
        pid: next((t for t in templates if t.process_id == pid), fallback) for pid in process_ids
    }


def template_get(*, pk: int) -> ScorecardTemplate:
    try:
        return template_list().get(pk=pk)
    except ScorecardTemplate.DoesNotExist:
        raise Http404("No such scorecard template.") from None


def qualification_scores(*, opportunities: list[Opportunity]) -> dict[int, int]:
    """Per deal, its qualification score in percent on its process's template (3 queries)."""
    templates = templates_by_process(process_ids={deal.process_id for deal in opportunities})
    criterion_ids = {c.pk for t in templates.values() if t for c in t.criteria.all()}
    ratings: dict[int, dict[int, int | None]] = defaultdict(dict)
    for deal_id, criterion_id, rating in OpportunityScore.objects.filter(
        opportunity_id__in=[deal.pk for deal in opportunities], criterion_id__in=criterion_ids
    ).values_list("opportunity_id", "criterion_id", "rating"):
        ratings[deal_id][criterion_id] = rating
    result = {}
    for deal in opportunities:
        template = templates.get(deal.process_id)
        criteria = list(template.criteria.all()) if template else []
        mine = ratings.get(deal.pk, {})
        result[deal.pk] = qualification_percent([mine.get(c.pk) for c in criteria], len(criteria))
    return result


# --- reviews ------------------------------------------------------------------------------------


def review_list(*, viewer: User, account: Account | None = None) -> QuerySet[AccountReview]:
    """Reviews of accounts ``viewer`` may see, newest first."""
    qs = AccountReview.objects.filter(
        account__in=Account.objects.visible_to(viewer).values("pk")
    ).select_related("account", "created_by", "template")
    if account is not None:
        qs = qs.filter(account=account)
    return qs.order_by("-held_on", "-id")


def review_get(*, viewer: User, pk: int) -> AccountReview:
    try:
        return (
            review_list(viewer=viewer)
            .select_related("account__owner")
            .prefetch_related("attendees")
            .get(pk=pk)
        )
    except AccountReview.DoesNotExist:
        raise Http404("No such review.") from None


def review_notes_history(*, review: AccountReview) -> list[ReviewNotesRevision]:
    """Each earlier text of the review's notes with who replaced it and when, newest first."""
    return list(review.notes_revisions.select_related("edited_by").order_by("-created_at", "-id"))


def action_item_get(*, viewer: User, pk: int) -> ActionItem:
    try:
        return ActionItem.objects.select_related("review", "owner").get(
            pk=pk, review__in=review_list(viewer=viewer).values("pk")
        )
    except ActionItem.DoesNotExist:
        raise Http404("No such action item.") from None


def score_get(*, viewer: User, pk: int) -> OpportunityScore:
    try:
        return OpportunityScore.objects.select_related(
            "opportunity__owner", "criterion", "noted_by", "validated_by"
        ).get(pk=pk, opportunity__in=Opportunity.objects.visible_to(viewer).values("pk"))
    except OpportunityScore.DoesNotExist:
        raise Http404("No such score.") from None


def criterion_get(*, template: ScorecardTemplate, pk: int) -> ScorecardCriterion:
    try:
        return ScorecardCriterion.objects.get(pk=pk, template=template)
    except ScorecardCriterion.DoesNotExist:
        raise Http404("No such criterion.") from None


def review_opportunity_get(*, viewer: User, review: AccountReview, pk: int) -> Opportunity:
    """A deal of the reviewed account that ``viewer`` sees; anything else is a 404."""
    try:
        return (
            Opportunity.objects.visible_to(viewer)
            .select_related("owner", "account", "process", "stage")
            .get(pk=pk, account_id=review.account_id)
        )
    except Opportunity.DoesNotExist:
        raise Http404("No such opportunity.") from None


@dataclass
class CriterionRow:
    criterion: ScorecardCriterion
    score: OpportunityScore | None


@dataclass
class DealReview:
    """Everything about one open deal that the review walks through."""

    deal: Opportunity
    checklist: list[StageChecklist]
    scorecard: list[CriterionRow]
    competitors: list[CompetitorPosition] = field(default_factory=list)
    proofs: list[ProofResource] = field(default_factory=list)
    negotiation: list[NegotiationItem] = field(default_factory=list)
    # The customer's people seen in the deal's captured mail and meetings, with their role.
    buying_group: list[Contact] = field(default_factory=list)

    @property
    def current_stage(self) -> StageChecklist | None:
        return next((stage for stage in self.checklist if stage.is_current), None)

    @property
    def missing(self) -> list[Milestone]:
        current = self.current_stage
        return current.missing if current else []

    @property
    def qualification(self) -> int:
        return qualification_percent(
            [row.score.rating if row.score else None for row in self.scorecard],
            len(self.scorecard),
        )


@dataclass
class ReviewPage:
    review: AccountReview
    criteria: list[ScorecardCriterion]
    deals: list[DealReview]
    contacts_by_role: dict[str, list[Contact]]
    action_items: list[ActionItem]


def _checklists(deals: list[Opportunity]) -> dict[int, list[StageChecklist]]:
    """Each deal's stages with each milestone's latest record, for all deals (3 queries)."""
    stages = list(
        Stage.objects.filter(process_id__in={d.process_id for d in deals})
        .prefetch_related(
            Prefetch("milestones", queryset=Milestone.objects.order_by("order", "id"))
        )
        .order_by("process_id", "order")
    )
    records: dict[int, list[MilestoneCompletion]] = defaultdict(list)
    for record in (
        MilestoneCompletion.objects.filter(opportunity_id__in=[d.pk for d in deals])
        .select_related("completed_by", "verified_by")
        .order_by("completed_at", "id")
    ):
        records[record.opportunity_id].append(record)
    result = {}
    for deal in deals:
        latest = current_completions(records.get(deal.pk, []))
        result[deal.pk] = [
            StageChecklist(
                stage=stage,
                rows=[
                    MilestoneRow(
                        m, latest.get(m.pk), bool(latest.get(m.pk) and latest[m.pk].counts)
                    )
                    for m in stage.milestones.all()
                ],
                is_current=stage.pk == deal.stage_id,
            )
            for stage in stages
            if stage.process_id == deal.process_id
        ]
    return result


def _buying_groups(deal_ids: list[int]) -> list[tuple[int, Contact]]:
    """(deal, contact) for every contact who took part in the deals' activities (captured
    mail and meetings: ``Activity.participants``), once each, by name (1 query)."""
    links = (
        Activity.participants.through.objects.filter(activity__opportunity_id__in=deal_ids)
        .select_related("contact", "activity")
        .order_by("contact__last_name", "contact__first_name", "contact_id")
    )
    seen: set[tuple[int, int]] = set()
    found: list[tuple[int, Contact]] = []
    for link in links:
        deal_id = link.activity.opportunity_id
        if deal_id is not None and (deal_id, link.contact_id) not in seen:
            seen.add((deal_id, link.contact_id))
            found.append((deal_id, link.contact))
    return found


def review_page(*, viewer: User, review: AccountReview) -> ReviewPage:
    """The account's open deals ``viewer`` sees, each with milestones, scorecard and plan.

    Queries, whatever the number of deals: deals, criteria, stages, milestones, completion
    records, scores, competitors, proofs, negotiation items, buying groups, contacts, action
    items (12).
    """
    deals = list(
        Opportunity.objects.visible_to(viewer)
        .filter(account_id=review.account_id, status=Opportunity.Status.OPEN)
        .select_related("owner", "stage", "process")
        .order_by("expected_close_on", "id")
    )
    criteria = list(review.template.criteria.order_by("order", "id"))
    deal_ids = [deal.pk for deal in deals]
    checklists = _checklists(deals) if deals else {}
    scores: dict[tuple[int, int], OpportunityScore] = {
        (s.opportunity_id, s.criterion_id): s
        for s in OpportunityScore.objects.filter(
            opportunity_id__in=deal_ids, criterion__in=criteria
        ).select_related("noted_by", "validated_by")
    }
    by_deal: dict[str, dict[int, list]] = {
        "competitors": defaultdict(list),
        "proofs": defaultdict(list),
        "negotiation": defaultdict(list),
        "buying_group": defaultdict(list),
    }
    for name, model in (
        ("competitors", CompetitorPosition),
        ("proofs", ProofResource),
        ("negotiation", NegotiationItem),
    ):
        for row in model.objects.filter(opportunity_id__in=deal_ids):
            by_deal[name][row.opportunity_id].append(row)
    for deal_id, contact in _buying_groups(deal_ids):
        by_deal["buying_group"][deal_id].append(contact)
    contacts_by_role: dict[str, list[Contact]] = defaultdict(list)
    for contact in Contact.objects.filter(account_id=review.account_id).exclude(buying_role=""):
        contacts_by_role[contact.buying_role].append(contact)
    return ReviewPage(
        review=review,
        criteria=criteria,
        deals=[
            DealReview(
                deal=deal,
                checklist=checklists.get(deal.pk, []),
                scorecard=[CriterionRow(c, scores.get((deal.pk, c.pk))) for c in criteria],
                competitors=by_deal["competitors"].get(deal.pk, []),
                proofs=by_deal["proofs"].get(deal.pk, []),
                negotiation=by_deal["negotiation"].get(deal.pk, []),
                buying_group=by_deal["buying_group"].get(deal.pk, []),
            )
            for deal in deals
        ],
        contacts_by_role=dict(contacts_by_role),
        action_items=list(review.action_items.select_related("owner").order_by("due_on", "id")),
    )
