"""From an emitted event to the people it concerns: ``on_event`` is registered with
``salesmgmt.webhooks`` (the path that feeds webhooks) and runs after the service's commit.

Each route reads the event's record and returns drafts; ``services.notifications_deliver``
keeps those the recipient may open and stores each once (its dedupe key).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.apps import apps
from django.db.models import Model
from django.urls import reverse

from accounts.models import MilestoneCompletion, Opportunity
from accounts.selectors import opportunity_get
from coaching.models import ActionItem, ResourceRequest
from coaching.selectors import request_get, review_get
from compensation.models import Dispute, Statement
from compensation.selectors import dispute_get, statement_get
from forecasting.models import CallLayer, ForecastCall
from salesmgmt.models import User, WebhookEvent
from territories.models import Quota

from .drafts import Draft
from .kinds import Kind

logger = logging.getLogger(__name__)


def manager_of(person: User) -> User | None:
    """The first person above ``person`` who can act: offices (org-unit nodes, no sign-in)
    and inactive people are passed over (a query a step; hierarchies are shallow)."""
    above = person.manager
    while above is not None and (above.is_org_unit or not above.is_active):
        above = above.manager
    return above


def deal_link(deal_id: int) -> str:
    return reverse("accounts:opportunity_detail", args=[deal_id])


def _deal_fetch(deal_id: int) -> Callable[[User], object]:
    return lambda viewer: opportunity_get(viewer=viewer, pk=deal_id)


def _deal_draft(
    *, recipient: User, kind: str, deal_id: int, title: str, body: str, dedupe_key: str
) -> Draft:
    """A notification about a deal: it links to the deal page, and reaches only a recipient
    who may open that deal."""
    return Draft(
        recipient=recipient,
        kind=kind,
        title=title,
        body=body,
        link=deal_link(deal_id),
        dedupe_key=dedupe_key,
        subject_label="accounts.opportunity",
        subject_id=deal_id,
        fetch=_deal_fetch(deal_id),
    )


def _milestone_completed(record: MilestoneCompletion, data: dict) -> list[Draft]:
    if record.verification_state != MilestoneCompletion.Verification.PENDING:
        return []
    deal = record.opportunity
    manager = manager_of(deal.owner)
    if manager is None:
        return []
    return [
        _deal_draft(
            recipient=manager,
            kind=Kind.MILESTONE_PENDING,
            deal_id=deal.pk,
            title=f"Verify “{record.milestone}” on {deal.name}",
            body=f"{record.completed_by} completed it with evidence: {record.evidence[:300]}",
            dedupe_key=f"milestone_pending:{record.pk}",
        )
    ]


def _milestone_reviewed(record: MilestoneCompletion, data: dict) -> list[Draft]:
    deal = record.opportunity
    verified = record.verification_state == MilestoneCompletion.Verification.VERIFIED
    outcome = "verified" if verified else "rejected"
    body = f"By {record.verified_by}." if verified else f"Reason: {record.rejection_reason}"
    recipient = record.completed_by or deal.owner
    return [
        _deal_draft(
            recipient=recipient,
            kind=Kind.MILESTONE_REVIEWED,
            deal_id=deal.pk,
            title=f"“{record.milestone}” on {deal.name} was {outcome}",
            body=body,
            dedupe_key=f"milestone_reviewed:{record.pk}",
        )
    ]


def _call_submitted(call: ForecastCall, data: dict) -> list[Draft]:
    if call.layer != CallLayer.MANAGER or call.submitted_by_id == call.person_id:
        return []
    return [
        Draft(
            recipient=call.person,
            kind=Kind.CALL_ADJUSTED,
            title=f"{call.submitted_by} adjusted your {call.period} call",
            body=(
                f"Commit {call.previous_commit_amount} → {call.commit_amount}, best case "
                f"{call.previous_best_case_amount} → {call.best_case_amount}. {call.note}"
            ),
            link=reverse("forecasting:forecast") + f"?period={call.period_id}",
            dedupe_key=f"call_adjusted:{call.pk}",
            subject_label="forecasting.forecastcall",
            subject_id=call.pk,
        )
    ]


def _deal_flagged(deal: Opportunity, data: dict) -> list[Draft]:
    kinds = ", ".join(data.get("flags", []))
    window = data.get("window", "")
    manager = manager_of(deal.owner)
    people = [deal.owner, *([manager] if manager else [])]
    return [
        _deal_draft(
            recipient=person,
            kind=Kind.DEAL_FLAGGED,
            deal_id=deal.pk,
            title=f"{deal.name} flagged: {kinds}",
            body=data.get("detail", ""),
            dedupe_key=f"deal_flagged:{deal.pk}:{kinds}:{window}",
        )
        for person in people
    ]


def _quota_changed(quota: Quota, data: dict) -> list[Draft]:
    return [
        Draft(
            recipient=quota.user,
            kind=Kind.QUOTA_CHANGED,
            title=f"Your quota for {quota.period} is now {quota.amount}",
            body=str(data.get("reason", "")),
            link=reverse("accounts:rep_home"),
            dedupe_key=f"quota_changed:{quota.pk}:{quota.version}",
            subject_label="territories.quota",
            subject_id=quota.pk,
        )
    ]


def _record_draft(
    record: Model,
    *,
    recipient: User,
    kind: str,
    title: str,
    body: str,
    link: str,
    opens: Callable[..., object],
    opens_pk: int | None = None,
) -> list[Draft]:
    """The one notification about ``record``: once per record and kind, and only for a
    recipient whom ``opens`` (the owning app's ``*_get`` selector, given ``opens_pk`` or the
    record's own id) lets see it."""
    pk = record.pk if opens_pk is None else opens_pk
    return [
        Draft(
            recipient=recipient,
            kind=kind,
            title=title,
            body=body,
            link=link,
            dedupe_key=f"{kind}:{record.pk}",
            subject_label=record._meta.label_lower,
            subject_id=record.pk,
            fetch=lambda viewer: opens(viewer=viewer, pk=pk),
        )
    ]


def _statement(statement: Statement, data: dict, *, approved: bool) -> list[Draft]:
    kind = Kind.STATEMENT_APPROVED if approved else Kind.STATEMENT_READY
    verb = "approved" if approved else "ready"
    return _record_draft(
        statement,
        recipient=statement.rep,
        kind=kind,
        title=f"Your statement for {statement.run.period} is {verb}",
        body=f"Total {statement.total_amount}.",
        link=reverse("compensation:statement_detail", args=[statement.pk]),
        opens=statement_get,
    )


def _dispute(dispute: Dispute, data: dict, *, resolved: bool) -> list[Draft]:
    rep = dispute.line.statement.rep
    manager = manager_of(rep)
    if resolved:
        recipient, kind = rep, Kind.DISPUTE_RESOLVED
        title, body = "Your dispute was resolved", dispute.resolution_note
        link = reverse("compensation:statement_detail", args=[dispute.line.statement_id])
    elif manager is not None:
        recipient, kind = manager, Kind.DISPUTE_RAISED
        title, body = f"{rep} disputes a statement line", dispute.text
        link = reverse("compensation:dispute_list")
    else:
        return []
    return _record_draft(
        dispute,
        recipient=recipient,
        kind=kind,
        title=title,
        body=body[:500],
        link=link,
        opens=dispute_get,
    )


def _request(request: ResourceRequest, data: dict, *, decided: bool) -> list[Draft]:
    deal = request.opportunity
    manager = manager_of(deal.owner)
    if decided:
        recipient, kind = request.requested_by, Kind.REQUEST_DECIDED
        title = f"Your {request.get_kind_display()} request on {deal.name} was {request.status}"
        link = deal_link(deal.pk)
    elif manager is not None:
        recipient, kind = manager, Kind.REQUEST_RAISED
        title = f"{request.requested_by} asks for {request.get_kind_display()} on {deal.name}"
        link = reverse("coaching:request_list")
    else:
        return []
    return _record_draft(
        request,
        recipient=recipient,
        kind=kind,
        title=title,
        body=(request.decision_note if decided else request.note),
        link=link,
        opens=request_get,
    )


def _action_assigned(item: ActionItem, data: dict) -> list[Draft]:
    # The item is seen on its review's page: whoever may open the review is told.
    return _record_draft(
        item,
        recipient=item.owner,
        kind=Kind.ACTION_ASSIGNED,
        title=f"Action item for {item.review.account}: {item.description}",
        body=f"Due {item.due_on:%Y-%m-%d}.",
        link=reverse("coaching:review_detail", args=[item.review_id]),
        opens=review_get,
        opens_pk=item.review_id,
    )


ROUTES: dict[str, Callable[[Model, dict], list[Draft]]] = {
    WebhookEvent.MILESTONE_COMPLETED: _milestone_completed,
    WebhookEvent.MILESTONE_VERIFIED: _milestone_reviewed,
    WebhookEvent.MILESTONE_REJECTED: _milestone_reviewed,
    WebhookEvent.FORECAST_SUBMITTED: _call_submitted,
    WebhookEvent.OPPORTUNITY_FLAGGED: _deal_flagged,
    WebhookEvent.QUOTA_CHANGED: _quota_changed,
    WebhookEvent.STATEMENT_READY: lambda s, d: _statement(s, d, approved=False),
    WebhookEvent.STATEMENT_APPROVED: lambda s, d: _statement(s, d, approved=True),
    WebhookEvent.DISPUTE_RAISED: lambda s, d: _dispute(s, d, resolved=False),
    WebhookEvent.DISPUTE_RESOLVED: lambda s, d: _dispute(s, d, resolved=True),
    WebhookEvent.RESOURCE_REQUEST_RAISED: lambda s, d: _request(s, d, decided=False),
    WebhookEvent.RESOURCE_REQUEST_DECIDED: lambda s, d: _request(s, d, decided=True),
    WebhookEvent.ACTION_ITEM_ASSIGNED: _action_assigned,
}  # type: ignore[dict-item]


def on_event(event: str, label: str, pk: int, data: dict) -> int:
    """The listener: store the notifications ``event`` calls for; returns how many."""
    from .services import notifications_deliver

    route = ROUTES.get(event)
    if route is None:
        return 0
    subject = apps.get_model(label)._default_manager.filter(pk=pk).first()
    if subject is None:
        return 0
    return len(notifications_deliver(drafts=route(subject, data)))
