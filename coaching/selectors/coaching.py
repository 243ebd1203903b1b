"""Reads for coaching: the per-rep coaching view and agenda, debriefs, plans, resource requests."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import Milestone, Opportunity, Stage
from accounts.selectors import default_process
from forecasting.models import KpiSnapshot, Scope
from salesmgmt.models import Period, User
from salesmgmt.money import RateTable
from salesmgmt.visibility import can_see_user, owned_by_visible

from .. import analytics
from ..compliance import ComplianceScore, compliance_score
from ..models import (
    CallDebrief,
    DevelopmentAction,
    DevelopmentGoal,
    DevelopmentPlan,
    ResourceKind,
    ResourcePolicy,
    ResourceRequest,
    SkillRating,
    SkillTag,
)
from .reviews import qualification_scores

TREND_QUARTERS = 4
AGENDA_SIZE = 3


def person_get(*, viewer: User, pk: int) -> User:
    """A person ``viewer`` may see; anyone else is a 404."""
    person = User.objects.select_related("manager").filter(pk=pk).first()
    if person is None or not can_see_user(viewer, person):
        raise Http404("No such person.")
    return person


def trailing_quarters(*, today: dt.date, count: int = TREND_QUARTERS) -> list[Period]:
    """The quarter containing ``today`` and the ones before it, oldest first (1 query)."""
    quarters = Period.objects.filter(kind=Period.Kind.QUARTER, start_on__lte=today)
    return list(reversed(quarters.order_by("-start_on")[:count]))


def kpi_frame(*, people: Q, periods: list[Period]) -> pd.DataFrame:
    """Own-scope KPI rows of the people matching ``people`` over ``periods`` (1 query)."""
    names = {p.pk: (p.name, p.start_on) for p in periods}
    rows = KpiSnapshot.objects.filter(
        people, scope=Scope.OWN, period_id__in=list(names)
    ).values(
        "person_id", "period_id", "win_rate_count", "average_deal_amount",
        "stage_conversion", "days_in_stage", "activities_by_kind",
    )  # fmt: skip
    frame = pd.DataFrame(
        list(rows),
        columns=[
            "person_id", "period_id", "win_rate_count", "average_deal_amount",
            "stage_conversion", "days_in_stage", "activities_by_kind",
        ],
    )  # fmt: skip
    frame["period_name"] = [names[pid][0] for pid in frame["period_id"]]
    frame["start_on"] = [names[pid][1] for pid in frame["period_id"]]
    return frame


@dataclass
class AgendaItem:
    """A transition to work on: the stage, its exit milestones and the deals to discuss."""

    stage_order: int
    stage: Stage | None
    milestones: list[Milestone]
    rep_conversion: float | None
    team_conversion: float | None
    rep_days: float | None
    team_days: float | None
    deals: list[Opportunity] = field(default_factory=list)


@dataclass
class RepCoaching:
    person: User
    periods: list[Period]
    comparison: pd.DataFrame
    stages: dict[int, Stage]
    agenda: list[AgendaItem]
    trends: pd.DataFrame
    activity_mix: pd.Series
    compliance: ComplianceScore
    debriefs: list[CallDebrief]
    plans: list[DevelopmentPlan]
    ratings: pd.DataFrame

    @property
    def has_kpis(self) -> bool:
        return not self.comparison.empty or not self.trends.empty

    @property
    def weakest_order(self) -> int | None:
        return self.agenda[0].stage_order if self.agenda else None


def _nan_to_none(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def coaching_agenda(
    *, person: User, comparison: pd.DataFrame, stages: dict[int, Stage]
) -> list[AgendaItem]:
    """The weakest transitions, each with the rep's open deals now in that stage (1 query)."""
    orders = analytics.weakest_transitions(comparison, limit=AGENDA_SIZE)
    if not orders:
        return []
    deals_by_order: dict[int, list[Opportunity]] = defaultdict(list)
    for deal in (
        Opportunity.objects.filter(
            owner=person, status=Opportunity.Status.OPEN, stage__order__in=orders
        )
        .select_related("account", "stage")
        .order_by("expected_close_on", "id")
    ):
        deals_by_order[deal.stage.order].append(deal)
    items = []
    for order in orders:
        row = comparison.loc[order]
        stage = stages.get(order)
        items.append(
            AgendaItem(
                stage_order=order,
                stage=stage,
                milestones=list(stage.milestones.all()) if stage else [],
                rep_conversion=_nan_to_none(row["rep_conversion"]),
                team_conversion=_nan_to_none(row["team_conversion"]),
                rep_days=_nan_to_none(row["rep_days"]),
                team_days=_nan_to_none(row["team_days"]),
                deals=deals_by_order.get(order, []),
            )
        )
    return items


def process_stages() -> dict[int, Stage]:
    """The default process's stages by order, exit milestones loaded (3 queries)."""
    process = default_process()
    if process is None:
        return {}
    stages = Stage.objects.filter(process=process).prefetch_related(
        Prefetch("milestones", queryset=Milestone.objects.order_by("order", "id"))
    )
    return {stage.order: stage for stage in stages}


def rep_coaching(*, viewer: User, person: User, today: dt.date | None = None) -> RepCoaching:
    """Everything the coaching view shows, from precomputed KPIs (a fixed number of queries).

    Queries: quarters, KPI rows of the rep and peers, default process + stages + milestones,
    agenda deals, compliance (3), debriefs (+skills), plans, skill ratings.
    """
    today = today or timezone.localdate()
    periods = trailing_quarters(today=today)
    peers = Q(person__manager_id=person.manager_id) if person.manager_id else Q(person=person)
    kpis = kpi_frame(people=peers | Q(person=person), periods=periods)
    comparison = analytics.stage_comparison(kpis, person_id=person.pk)
    stages = process_stages()
    mine = kpis[kpis["person_id"] == person.pk]
    return RepCoaching(
        person=person,
        periods=periods,
        comparison=comparison,
        stages=stages,
        agenda=coaching_agenda(person=person, comparison=comparison, stages=stages),
        trends=analytics.trends(mine),
        activity_mix=analytics.activity_mix(mine),
        compliance=compliance_score(user_id=person.pk, as_of=today),
        debriefs=list(debrief_list(viewer=viewer, rep=person)[:10]),
        plans=list(plan_list(viewer=viewer, rep=person)[:5]),
        ratings=skill_rating_frame(rep=person),
    )


# --- debriefs, plans, ratings -------------------------------------------------------------------


def skill_list() -> QuerySet[SkillTag]:
    return SkillTag.objects.filter(is_active=True).order_by("order", "name")


def debrief_list(*, viewer: User, rep: User | None = None) -> QuerySet[CallDebrief]:
    """Debriefs about people ``viewer`` sees (a rep: their own), newest first."""
    qs = CallDebrief.objects.select_related("rep", "manager", "opportunity").prefetch_related(
        "skills"
    )
    if not viewer.sees_everyone:
        # (An empty Q() would swallow the OR: everyone-seers get no filter at all.)
        qs = qs.filter(owned_by_visible(viewer, "rep") | Q(manager=viewer))
    if rep is not None:
        qs = qs.filter(rep=rep)
    return qs.order_by("-held_on", "-id")


def plan_list(*, viewer: User, rep: User | None = None) -> QuerySet[DevelopmentPlan]:
    qs = DevelopmentPlan.objects.filter(owned_by_visible(viewer, "rep")).select_related(
        "rep", "created_by"
    )
    if rep is not None:
        qs = qs.filter(rep=rep)
    return qs.order_by("-created_at", "-id")


def plan_get(*, viewer: User, pk: int) -> DevelopmentPlan:
    """The plan with its goals and their actions (3 queries); 404 outside visibility."""
    try:
        return (
            plan_list(viewer=viewer)
            .select_related("enrolment__programme")
            .prefetch_related(
                Prefetch(
                    "goals",
                    queryset=DevelopmentGoal.objects.select_related("skill")
                    .order_by("target_on", "id")
                    .prefetch_related(
                        Prefetch("actions", queryset=DevelopmentAction.objects.order_by("due_on"))
                    ),
                )
            )
            .get(pk=pk)
        )
    except DevelopmentPlan.DoesNotExist:
        raise Http404("No such plan.") from None


def goal_get(*, viewer: User, pk: int) -> DevelopmentGoal:
    try:
        return DevelopmentGoal.objects.select_related("plan__rep").get(
            pk=pk, plan__in=plan_list(viewer=viewer).values("pk")
        )
    except DevelopmentGoal.DoesNotExist:
        raise Http404("No such goal.") from None


def action_get(*, viewer: User, pk: int) -> DevelopmentAction:
    try:
        return DevelopmentAction.objects.select_related("goal__plan__rep").get(
            pk=pk, goal__plan__in=plan_list(viewer=viewer).values("pk")
        )
    except DevelopmentAction.DoesNotExist:
        raise Http404("No such action.") from None


def skill_rating_frame(*, rep: User) -> pd.DataFrame:
    """The rep's skill ratings over time: skill, rated_on, rating (1 query)."""
    rows = SkillRating.objects.filter(rep=rep).values_list("skill__name", "rated_on", "rating")
    return pd.DataFrame(list(rows), columns=["skill", "rated_on", "rating"])


# --- resource requests ------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionCheck:
    label: str
    required: object
    actual: object
    is_met: bool


@dataclass
class RequestCriteria:
    """The approval criteria of one request, as they stand now."""

    amount: Decimal
    stage_order: int
    qualification: int
    policy: ResourcePolicy | None
    checks: list[CriterionCheck]

    @property
    def all_met(self) -> bool:
        return all(check.is_met for check in self.checks)

    def as_snapshot(self) -> dict:
        return {
            "amount": str(self.amount),
            "stage_order": self.stage_order,
            "qualification": self.qualification,
            "checks": [
                {"label": c.label, "required": str(c.required), "actual": str(c.actual),
                 "is_met": c.is_met}
                for c in self.checks
            ],
        }  # fmt: skip


def request_list(*, viewer: User) -> QuerySet[ResourceRequest]:
    """Requests on deals ``viewer`` sees, newest first."""
    return (
        ResourceRequest.objects.filter(
            opportunity__in=Opportunity.objects.visible_to(viewer).values("pk")
        )
        .select_related(
            "opportunity__owner", "opportunity__stage", "opportunity__account", "requested_by",
            "decided_by",
        )
        .order_by("-created_at", "-id")
    )  # fmt: skip


def request_get(*, viewer: User, pk: int) -> ResourceRequest:
    try:
        return request_list(viewer=viewer).get(pk=pk)
    except ResourceRequest.DoesNotExist:
        raise Http404("No such request.") from None


def request_criteria(*, requests: list[ResourceRequest]) -> dict[int, RequestCriteria]:
    """Each request's criteria: deal size, stage and qualification against its kind's policy.

    Queries: policies, exchange rates, scorecard templates + criteria, scores (5), however many.
    """
    if not requests:
        return {}
    policies = {p.kind: p for p in ResourcePolicy.objects.all()}
    rates = RateTable.load()
    deals = {r.opportunity_id: r.opportunity for r in requests}
    qualification = qualification_scores(opportunities=list(deals.values()))
    return {
        request.pk: _criteria(request.opportunity, policies.get(request.kind), rates, qualification)
        for request in requests
    }


def _criteria(
    deal: Opportunity,
    policy: ResourcePolicy | None,
    rates: RateTable,
    qualification: dict[int, int],
) -> RequestCriteria:
    """The deal's size, stage and qualification against ``policy`` (none: no criteria)."""
    amount = rates.convert(deal.amount, deal.currency, deal.expected_close_on)
    stage_order = deal.stage.order if deal.stage is not None else 0
    score = qualification.get(deal.pk, 0)
    checks = []
    if policy is not None:
        checks = [
            CriterionCheck("Deal size", policy.min_amount, amount, amount >= policy.min_amount),
            CriterionCheck(
                "Stage", policy.min_stage_order, stage_order,
                stage_order >= policy.min_stage_order,
            ),
            CriterionCheck(
                "Qualification score %", policy.min_qualification, score,
                score >= policy.min_qualification,
            ),
        ]  # fmt: skip
    return RequestCriteria(amount, stage_order, score, policy, checks)


def deal_criteria(*, opportunity: Opportunity) -> list[tuple[str, RequestCriteria]]:
    """Whether the deal qualifies now for each kind of help: (kind label, criteria), in the
    kinds' order; what a rep reads before asking (4 queries)."""
    policies = {p.kind: p for p in ResourcePolicy.objects.all()}
    rates = RateTable.load()
    qualification = qualification_scores(opportunities=[opportunity])
    return [
        (label, _criteria(opportunity, policies.get(kind), rates, qualification))
        for kind, label in ResourceKind.choices
    ]


def policy_list() -> list[tuple[str, str, ResourcePolicy | None]]:
    """Every kind of help with its policy (None: no criteria): (kind, label, policy) (1 query)."""
    policies = {p.kind: p for p in ResourcePolicy.objects.all()}
    return [(kind, label, policies.get(kind)) for kind, label in ResourceKind.choices]
