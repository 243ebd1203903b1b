"""Writes for account reviews: the meeting, scorecards with evidence states, the deal plan."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Opportunity, OpportunityTeamMember
from salesmgmt import webhooks
from salesmgmt.errors import ConflictError, PermissionDeniedError
from salesmgmt.models import User, WebhookEvent
from salesmgmt.visibility import can_see_user, manages

from .. import locks
from ..models import (
    AccountReview,
    ActionItem,
    CompetitorPosition,
    EvidenceState,
    NegotiationItem,
    OpportunityScore,
    ProofResource,
    ReviewNotesRevision,
    ScorecardCriterion,
    ScorecardTemplate,
)
from ..selectors.reviews import templates_by_process


def ensure_works_on(actor: User, deal: Opportunity) -> None:
    """Owner, team members, the owner's managers, executives and admins."""
    if actor.sees_everyone or actor.pk == deal.owner_id or manages(actor, deal.owner):
        return
    if OpportunityTeamMember.objects.filter(opportunity=deal, user=actor).exists():
        return
    raise PermissionDeniedError("You do not work on this opportunity.")


def may_edit_review(actor: User, review: AccountReview) -> bool:
    """Who may write a review's record (its notes and action items): whoever recorded it, the
    account owner's managers (anyone above them), executives and admins. Others who see the
    account (a deal team across teams, that team's manager) read it only."""
    return actor.pk == review.created_by_id or manages(actor, review.account.owner)


def _ensure_sees_account(actor: User, account: Account) -> None:
    if not Account.objects.visible_to(actor).filter(pk=account.pk).exists():
        raise PermissionDeniedError("You cannot review this account.")


def _clean(instance) -> None:
    instance.full_clean()
    instance.save()


@transaction.atomic
def review_create(
    *,
    actor: User,
    account: Account,
    held_on: dt.date,
    attendees: Iterable[User] = (),
    notes: str = "",
    template: ScorecardTemplate | None = None,
) -> AccountReview:
    """Record a review meeting; the actor attends, the template defaults to the process's."""
    _ensure_sees_account(actor, account)
    people = {person.pk: person for person in attendees}
    people[actor.pk] = actor
    hidden = [
        str(p) for p in people.values() if not can_see_user(actor, p) and p.pk != account.owner_id
    ]
    if hidden:
        raise ValidationError({"attendees": f"You cannot invite {', '.join(hidden)}."})
    if template is None:
        process_id = (
            account.opportunities.filter(status=Opportunity.Status.OPEN)
            .values_list("process_id", flat=True)
            .first()
        )
        template = templates_by_process(process_ids={process_id or 0}).get(process_id or 0)
    if template is None:
        raise ValidationError({"template": "Define a scorecard template first."})
    review = AccountReview(
        account=account, template=template, held_on=held_on, notes=notes, created_by=actor
    )
    _clean(review)
    review.attendees.set(people.values())
    return review


@transaction.atomic
def review_update(*, actor: User, review: AccountReview, notes: str) -> AccountReview:
    """Replace the review's notes; the text they replace is kept with who and when."""
    _ensure_sees_account(actor, review.account)
    review = locks.lock_review(review.pk)
    if not may_edit_review(actor, review):
        raise PermissionDeniedError(
            "Only whoever recorded this review and the account owner's managers edit its notes."
        )
    if notes == review.notes:
        return review
    ReviewNotesRevision.objects.create(review=review, previous_notes=review.notes, edited_by=actor)
    review.notes = notes
    _clean(review)
    return review


@transaction.atomic
def score_record(
    *,
    actor: User,
    opportunity: Opportunity,
    criterion: ScorecardCriterion,
    rating: int | None,
    note: str = "",
    review: AccountReview | None = None,
) -> OpportunityScore:
    """Rate a criterion with a note. A note makes it the rep's evidence; any edit of a
    validated score sends it back for validation (the manager validated other words)."""
    ensure_works_on(actor, opportunity)
    if review is not None and review.account_id != opportunity.account_id:
        raise ValidationError({"review": "The review is of another account."})
    score = locks.lock_score(
        opportunity_id=opportunity.pk, criterion_id=criterion.pk
    ) or OpportunityScore(opportunity=opportunity, criterion=criterion)
    note = note.strip()
    score.rating = rating
    score.note = note
    score.review = review or score.review
    score.noted_by = actor
    score.evidence_state = EvidenceState.REP_NOTE if note else EvidenceState.EMPTY
    score.validated_by = None
    score.validated_at = None
    _clean(score)
    return score


@transaction.atomic
def score_validate(*, actor: User, score: OpportunityScore) -> OpportunityScore:
    """Only the deal owner's manager validates, never their own note, and only a note."""
    locked = locks.lock_score(opportunity_id=score.opportunity_id, criterion_id=score.criterion_id)
    if locked is None:
        raise ConflictError("This score was deleted meanwhile.")
    score = locked
    if not manages(actor, score.opportunity.owner):
        raise PermissionDeniedError("Only the owner's manager validates evidence.")
    if score.noted_by_id == actor.pk:
        raise PermissionDeniedError("Nobody validates their own note.")
    if score.evidence_state != EvidenceState.REP_NOTE:
        raise ValidationError("Only a rep's note can be validated.")
    score.evidence_state = EvidenceState.VALIDATED
    score.validated_by = actor
    score.validated_at = timezone.now()
    _clean(score)
    return score


@transaction.atomic
def competitor_add(
    *, actor: User, opportunity: Opportunity, competitor: str, area: str, position: str, plan: str
) -> CompetitorPosition:
    ensure_works_on(actor, opportunity)
    row = CompetitorPosition(
        opportunity=opportunity,
        competitor=competitor.strip(),
        area=area.strip(),
        position=position,
        plan=plan,
        created_by=actor,
    )
    _clean(row)
    return row


@transaction.atomic
def proof_add(
    *, actor: User, opportunity: Opportunity, kind: str, planned_on: dt.date, note: str = ""
) -> ProofResource:
    ensure_works_on(actor, opportunity)
    row = ProofResource(
        opportunity=opportunity, kind=kind, planned_on=planned_on, note=note, created_by=actor
    )
    _clean(row)
    return row


@transaction.atomic
def proof_set_status(*, actor: User, proof: ProofResource, status: str) -> ProofResource:
    ensure_works_on(actor, proof.opportunity)
    proof.status = status
    _clean(proof)
    return proof


@transaction.atomic
def negotiation_add(
    *, actor: User, opportunity: Opportunity, concession: str, in_return: str
) -> NegotiationItem:
    """A concession is only written down together with what we get for it."""
    ensure_works_on(actor, opportunity)
    if not in_return.strip():
        raise ValidationError({"in_return": "Say what we get for this concession."})
    row = NegotiationItem(
        opportunity=opportunity,
        concession=concession.strip(),
        in_return=in_return.strip(),
        created_by=actor,
    )
    _clean(row)
    return row


@transaction.atomic
def action_item_add(
    *, actor: User, review: AccountReview, description: str, owner: User, due_on: dt.date
) -> ActionItem:
    """An action item for an attendee or someone the actor sees, by those who may edit the
    review's record."""
    _ensure_sees_account(actor, review.account)
    if not may_edit_review(actor, review):
        raise PermissionDeniedError(
            "Only whoever recorded this review and the account owner's managers add action items."
        )
    is_attendee = review.attendees.filter(pk=owner.pk).exists()
    if not is_attendee and not can_see_user(actor, owner):
        raise ValidationError({"owner": "Give action items to attendees or your team."})
    item = ActionItem(review=review, description=description.strip(), owner=owner, due_on=due_on)
    _clean(item)
    webhooks.emit(WebhookEvent.ACTION_ITEM_ASSIGNED, subject=item)
    return item


@transaction.atomic
def action_item_complete(*, actor: User, item: ActionItem) -> ActionItem:
    if not (actor.pk in (item.owner_id, item.review.created_by_id) or manages(actor, item.owner)):
        raise PermissionDeniedError("Only the owner or the review's organiser closes it.")
    if item.done_at is None:
        item.done_at = timezone.now()
        _clean(item)
    return item
