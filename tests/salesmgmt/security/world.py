"""The sweeps' world: every kind of record the URLs name, once for each team.

Team "a" is manager_a's subtree (rep_a, se_a - a deal-team member on rep_a's open deal -
and manager_a), team "b" is manager_b's (rep_b, manager_b). Records of one team are outside
the other team's visibility (salesmgmt/visibility.py); executives, admins and integrators see
both. Personal records (tokens, webhooks, deliveries, imports) belong to one person only.

Every team's business records carry a marker in their names ("Alpha-secret", "Bravo-secret")
so a page or an API answer that shows another team's record is found by a substring test.
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps
from django.db.models import Model
from django.utils import timezone

from accounts.models import (
    Milestone,
    OpportunityLineItem,
    OpportunityTeamMember,
    Product,
    SalesProcess,
)
from capture.models import CalendarSubscription, CapturedItem
from coaching.models import (
    ActionItem,
    DevelopmentAction,
    DevelopmentGoal,
    OpportunityScore,
    Programme,
    ProgrammeStep,
    ScorecardCriterion,
    SkillTag,
)
from compensation import services as compensation_services
from compensation.models import ComponentKind, Dispute, StatementLine
from notifications.models import Notification
from salesmgmt.models import ApiToken, ImportJob, Period, User, WebhookDelivery, WebhookSubscription
from salesmgmt.services import periods_ensure
from territories.models import AccountTerritoryAssignment, AssignmentRule, Quota
from tests.coaching.factories import (
    AccountReviewFactory,
    CallDebriefFactory,
    DevelopmentPlanFactory,
    EnrolmentFactory,
    ProgrammeFactory,
    ProgrammeStepFactory,
    ResourceRequestFactory,
)
from tests.compensation.factories import (
    TIERED,
    PlanAssignmentFactory,
    PlanFactory,
    component,
    won_deal,
)
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    MilestoneCompletionFactory,
    OpportunityFactory,
)
from tests.forecasting.factories import ForecastCallFactory
from tests.territories.factories import TerritoryFactory

TEAMS = {
    "a": ("rep_a", "se_a", "manager_a"),
    "b": ("rep_b", "manager_b"),
}
MARKER = {"a": "Alpha-secret", "b": "Bravo-secret"}
# Records both teams see (URL targets that are neither team's alone).
SHARED = "shared"
# People who own personal records (tokens, webhooks, deliveries, import jobs).
PERSONAL_OWNERS = ("rep_a", "rep_b", "manager_a", "integrator")
PERSONAL_MODELS = (
    ApiToken,
    WebhookSubscription,
    WebhookDelivery,
    ImportJob,
    # Captured mail and calendars are their owner's alone (salesmgmt.visibility).
    CapturedItem,
    CalendarSubscription,
    Notification,
)
# A users CSV that would make rep_a an administrator (probe M2): only an admin person may.
ESCALATING_USERS_CSV = (
    "username,email,first_name,last_name,role\nrep_a,rep_a@example.com,R,A,admin\n"
)
PAYOUT_DAY = dt.date(2026, 2, 2)

_builtins = importlib.import_module("coaching.migrations.0002_builtin_templates")


def team_of(persona: str) -> str | None:
    return next((team for team, names in TEAMS.items() if persona in names), None)


@dataclass
class World:
    personas: dict[str, User]
    # model -> team -> the records of that team, the first being the one URLs are filled with.
    records: dict[type[Model], dict[str, list[Model]]] = field(default_factory=dict)
    # model -> persona -> that person's own record (personal models only).
    personal: dict[type[Model], dict[str, Model]] = field(default_factory=dict)
    # Records no team owns (periods, processes, criteria, plans, payout runs).
    neutral: dict[type[Model], Model] = field(default_factory=dict)
    # team -> records only that team (and those who see everyone) may change.
    guarded: dict[str, list[Model]] = field(default_factory=dict)

    def add(self, team: str, *rows: Model) -> None:
        for row in rows:
            self.records.setdefault(type(row), {}).setdefault(team, []).append(row)
            if team in TEAMS and type(row) is not User:
                self.guarded.setdefault(team, []).append(row)

    def first(self, model: type[Model], team: str) -> Model | None:
        return (self.records.get(model, {}).get(team) or [None])[0]

    def team_of_record(self, row: Model) -> str | None:
        for team, rows in self.records.get(type(row), {}).items():
            if any(r.pk == row.pk for r in rows):
                return team
        return None


def build_world(personas: dict[str, User], process: SalesProcess) -> World:
    """Every kind of record for both teams, created the way the app's own tests create them."""
    _builtins.add_builtins(apps, None)
    world = World(personas=personas)
    today = timezone.localdate()
    periods_ensure(year=today.year)
    periods_ensure(year=PAYOUT_DAY.year)
    quarter = Period.objects.get(kind=Period.Kind.QUARTER, start_on__lte=today, end_on__gte=today)
    payout_quarter = Period.objects.get(
        kind=Period.Kind.QUARTER, start_on__lte=PAYOUT_DAY, end_on__gte=PAYOUT_DAY
    )
    world.neutral[Period] = quarter
    world.neutral[SalesProcess] = process
    first_milestone = Milestone.objects.filter(stage__process=process).order_by(
        "stage__order", "order"
    )[0]
    world.neutral[Milestone] = first_milestone
    criterion = ScorecardCriterion.objects.order_by("pk").first()
    world.neutral[ScorecardCriterion] = criterion
    skill = SkillTag.objects.order_by("pk").first()

    plan = PlanFactory(name="Sweep plan")
    component(plan, ComponentKind.COMMISSION, TIERED, name="Commission")
    PlanAssignmentFactory(plan=plan, role="rep")
    world.neutral[type(plan)] = plan
    # The catalogue is company-wide: everyone reads it, admins and integrations change it.
    product = Product.objects.create(name="Sweep product", family="Sweep", list_price=100)
    world.neutral[Product] = product
    # Onboarding programmes are company-wide: everyone reads them, people who lead write them.
    programme = ProgrammeFactory(name="Sweep programme", created_by=personas["admin"])
    world.neutral[Programme] = programme
    world.neutral[ProgrammeStep] = ProgrammeStepFactory(programme=programme, title="Sweep step")

    for team, (rep_name, manager_name) in {
        "a": ("rep_a", "manager_a"),
        "b": ("rep_b", "manager_b"),
    }.items():
        rep, manager = personas[rep_name], personas[manager_name]
        mark = MARKER[team]
        account = AccountFactory(owner=rep, name=f"{mark} account", external_id=f"ext-{team}")
        deal = OpportunityFactory(
            owner=rep,
            account=account,
            process=process,
            name=f"{mark} deal",
            amount=Decimal("50000"),
        )
        won = won_deal(
            rep, "30000", PAYOUT_DAY, account=account, process=process, name=f"{mark} won"
        )
        world.add(team, account, deal, won)
        world.add(
            team,
            OpportunityLineItem.objects.create(
                opportunity=deal, product=product, quantity=1, unit_price=Decimal("50000")
            ),
        )
        world.add(team, ContactFactory(account=account, first_name=mark, last_name="Contact"))
        activity = ActivityFactory(
            owner=rep, account=account, opportunity=deal, notes=f"{mark} call"
        )
        world.add(team, activity)
        world.add(
            team,
            MilestoneCompletionFactory(
                opportunity=deal, milestone=first_milestone, evidence=f"{mark} evidence"
            ),
        )
        if team == "a":
            world.add(
                team,
                OpportunityTeamMember.objects.create(
                    opportunity=deal, user=personas["se_a"], team_role="SE"
                ),
            )

        territory = TerritoryFactory(name=f"{mark} territory", owner=rep)
        rule = AssignmentRule.objects.create(name=f"{mark} rule", territory=territory, priority=100)
        assignment = AccountTerritoryAssignment.objects.create(
            account=account, territory=territory, effective_from=dt.date(2020, 1, 1)
        )
        quota = Quota.objects.create(
            user=rep, period=quarter, basis=Quota.Basis.EXPLICIT, amount=Decimal("100000")
        )
        Quota.objects.create(
            user=rep, period=payout_quarter, basis=Quota.Basis.EXPLICIT, amount=Decimal("100000")
        )
        world.add(team, territory, rule, assignment, quota)
        world.add(team, ForecastCallFactory(person=rep, period=quarter, note=f"{mark} call"))
        world.add(
            team,
            ForecastCallFactory(
                person=rep,
                period=quarter,
                layer="manager",
                submitted_by=manager,
                note=f"{mark} adjustment",
            ),
        )

        review = AccountReviewFactory(account=account, created_by=manager, notes=f"{mark} notes")
        world.add(team, review)
        world.add(
            team,
            ActionItem.objects.create(
                review=review, description=f"{mark} action", owner=rep, due_on=today
            ),
        )
        world.add(
            team,
            OpportunityScore.objects.create(
                opportunity=deal,
                criterion=criterion,
                review=review,
                rating=2,
                note=f"{mark} score",
                noted_by=manager,
            ),
        )
        world.add(team, CallDebriefFactory(rep=rep, manager=manager, went_well=f"{mark} debrief"))
        plan_row = DevelopmentPlanFactory(rep=rep, created_by=manager, title=f"{mark} plan")
        goal = DevelopmentGoal.objects.create(
            plan=plan_row, description=f"{mark} goal", skill=skill, target_on=today
        )
        world.add(team, plan_row, goal)
        world.add(
            team,
            DevelopmentAction.objects.create(goal=goal, description=f"{mark} step", due_on=today),
        )
        world.add(
            team, ResourceRequestFactory(opportunity=deal, requested_by=rep, note=f"{mark} ask")
        )
        # The company's programme (neutral) with each team's rep enrolled in it.
        world.add(team, EnrolmentFactory(programme=programme, rep=rep))
        world.add(team, rep)

    # An account both teams work on (probe L3): rep_a's, with a deal of rep_b's, so manager_b
    # sees it and manager_a's review of it - but may not rewrite that review.
    shared = AccountFactory(owner=personas["rep_a"], name="Shared account", external_id="ext-s")
    shared_a = OpportunityFactory(
        owner=personas["rep_a"], account=shared, process=process, name="Alpha-secret shared deal"
    )
    shared_b = OpportunityFactory(
        owner=personas["rep_b"], account=shared, process=process, name="Bravo-secret shared deal"
    )
    shared_review = AccountReviewFactory(
        account=shared, created_by=personas["manager_a"], notes="Shared review notes"
    )
    world.add(SHARED, shared, shared_review)
    world.guarded["a"] += [shared_a, shared_review]
    world.guarded["b"].append(shared_b)

    run = compensation_services.payout_run_compute(
        period=payout_quarter, actor=personas["executive"]
    )
    run = compensation_services.payout_run_process(run=run, actor=personas["executive"])
    world.neutral[type(run)] = run
    world.neutral[Period] = quarter
    for statement in run.statements.select_related("rep"):
        team = team_of(statement.rep.username)
        if team is None:
            continue
        line = StatementLine.objects.filter(statement=statement).order_by("pk").first()
        world.add(team, statement)
        if line is not None:
            world.add(team, line)
            if statement.rep.username in ("rep_a", "rep_b"):
                world.add(
                    team,
                    Dispute.objects.create(
                        line=line, raised_by=statement.rep, text=f"{MARKER[team]} dispute"
                    ),
                )

    for name in PERSONAL_OWNERS:
        person = personas[name]
        token = ApiToken.objects.create(
            user=person, name=f"{name} token", key_prefix=name[:8], key_hash=f"sweep-{name}"
        )
        webhook = WebhookSubscription.objects.create(
            owner=person,
            url=f"https://hooks.example.com/{name}",
            secret="s" * 32,
            events=["opportunity.won"],
        )
        delivery = WebhookDelivery.objects.create(
            subscription=webhook, event="opportunity.won", payload={}, status="failed"
        )
        job = ImportJob.objects.create(
            kind="users" if name == "integrator" else "accounts",
            created_by=person,
            content=ESCALATING_USERS_CSV if name == "integrator" else "name\nSweep import\n",
            status="succeeded",
            dry_run=True,
        )
        notification = Notification.objects.create(
            recipient=person,
            kind="quota_changed",
            title=f"{name}'s own notification",
            link="/my/",
            dedupe_key=f"sweep:{name}",
        )
        captured = CapturedItem.objects.create(
            owner=person,
            kind="email",
            status="unfiled",
            message_key=f"sweep-{name}",
            sender="someone@elsewhere.example",
            subject=f"{name}'s captured mail",
            occurred_at=timezone.now(),
        )
        calendar = CalendarSubscription.objects.create(
            owner=person, url=f"https://calendar.example.com/{name}.ics"
        )
        for row in (token, webhook, delivery, job, notification, captured, calendar):
            world.personal.setdefault(type(row), {})[name] = row
    return world
