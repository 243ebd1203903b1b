"""Every URL the app answers, found from the URLconf (and checked against the OpenAPI schema),
with its path arguments filled from the sweeps' world.

Nothing here lists URLs by hand: a new pattern is swept as soon as it is routed. What is
written by hand is which *kind of record* a path argument names when the URLconf cannot say
(``pk`` of a function view); a pattern whose argument is not known fails the sweep, so the
table below grows with the app.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from django.apps import apps
from django.contrib import admin
from django.db.models import Model
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

from accounts.models import (
    Account,
    Milestone,
    MilestoneCompletion,
    Opportunity,
    OpportunityLineItem,
    OpportunityTeamMember,
    Product,
    SalesProcess,
    Stage,
)
from capture.models import CalendarSubscription, CapturedItem
from coaching.models import (
    AccountReview,
    ActionItem,
    DevelopmentAction,
    DevelopmentGoal,
    DevelopmentPlan,
    Enrolment,
    OpportunityScore,
    Programme,
    ProgrammeStep,
    ResourceRequest,
    ScorecardCriterion,
)
from compensation.models import Dispute, PayoutRun, Statement, StatementLine
from notifications.models import Notification
from planning.models import PlannedHire, Scenario, Segment
from salesmgmt.models import ApiToken, ImportJob, Period, User
from territories.models import AssignmentRule, Territory

from .world import PERSONAL_MODELS, World

# Path arguments whose name says the kind of record, whatever the URL.
KWARG_MODELS: dict[str, type[Model]] = {
    "milestone_id": Milestone,
    "period_id": Period,
    "user_id": User,
    "person_id": User,
    "deal_id": Opportunity,
    "criterion_id": ScorecardCriterion,
    "process_id": SalesProcess,
    "stage_id": Stage,
    "product_id": Product,
    "line_item_id": OpportunityLineItem,
    "member_id": OpportunityTeamMember,
    "step_id": ProgrammeStep,
}
# ``pk`` of the server-rendered pages, by URL name.
PAGE_PK_MODELS: dict[str, type[Model]] = {
    "api_token_revoke": ApiToken,
    "import_job": ImportJob,
    "import_mapping": ImportJob,
    "accounts:opportunity_detail": Opportunity,
    "accounts:opportunity_edit": Opportunity,
    "accounts:opportunity_close_won": Opportunity,
    "accounts:opportunity_close_lost": Opportunity,
    "accounts:milestone_complete": Opportunity,
    "accounts:milestone_undo": Opportunity,
    "accounts:line_item_add": Opportunity,
    "accounts:team_member_add": Opportunity,
    "accounts:team_member_edit": Opportunity,
    "accounts:team_member_remove": Opportunity,
    "accounts:completion_verify": MilestoneCompletion,
    "accounts:completion_reject": MilestoneCompletion,
    "accounts:account_detail": Account,
    "accounts:account_edit": Account,
    "territories:territory_edit": Territory,
    "territories:rule_edit": AssignmentRule,
    "compensation:statement_detail": Statement,
    "compensation:statement_approve": Statement,
    "compensation:statement_adjust": Statement,
    "compensation:line_dispute": StatementLine,
    "compensation:run_process": PayoutRun,
    "compensation:dispute_resolve": Dispute,
    "compensation:deal_credit": Opportunity,
    "compensation:deal_credit_splits": Opportunity,
    "compensation:deal_cancel": Opportunity,
    "coaching:rep_coaching": User,
    "coaching:skill_rate": User,
    "coaching:review_detail": AccountReview,
    "coaching:review_notes": AccountReview,
    "coaching:action_item_add": AccountReview,
    "coaching:score_save": AccountReview,
    "coaching:competitor_add": AccountReview,
    "coaching:proof_add": AccountReview,
    "coaching:negotiation_add": AccountReview,
    "coaching:score_validate": OpportunityScore,
    "coaching:action_item_done": ActionItem,
    "coaching:plan_detail": DevelopmentPlan,
    "coaching:goal_add": DevelopmentPlan,
    "coaching:plan_evaluate": DevelopmentPlan,
    "coaching:plan_action_add": DevelopmentGoal,
    "coaching:plan_action_done": DevelopmentAction,
    "coaching:request_decide": ResourceRequest,
    "coaching:plan_link_programme": DevelopmentPlan,
    "coaching:programme_detail": Programme,
    "coaching:programme_edit": Programme,
    "coaching:programme_step_add": Programme,
    "coaching:programme_step_remove": Programme,
    "coaching:programme_enrol": Programme,
    "coaching:enrolment_detail": Enrolment,
    "coaching:enrolment_step_complete": Enrolment,
    "notifications:open": Notification,
    "capture:item_file": CapturedItem,
    "capture:item_delete": CapturedItem,
    "capture:calendar_unsubscribe": CalendarSubscription,
    "planning:scenario_delete": Scenario,
    "planning:planned_hire_delete": PlannedHire,
    "planning:planned_hire_hire": PlannedHire,
    "planning:segment_edit": Segment,
    "planning:segment_delete": Segment,
}
# Where an API viewset's queryset is not the kind its ``pk`` names.
API_PK_MODELS: dict[str, type[Model]] = {
    "compensation-deal-detail": Opportunity,
    "compensation-deal-cancel": Opportunity,
    "compensation-deal-splits": Opportunity,
    "opportunity-probability": Opportunity,
}
# Reachable without signing in (everything else: log-in redirect, 401 or 403).
PUBLIC = {
    "login",
    "two_factor_verify",
    "two_factor_login_enrol",
    "logout",
    "healthz",
    "admin:login",
    "admin:logout",
    "admin/login/",
    "api-schema",
    "api-docs",
    "api/^",
    "invitation_accept",  # the signed token is the credential (salesmgmt.invitations)
    "notifications:unsubscribe",  # the signed token is the credential (notifications.mail)
}
# Admin arguments that name no record, and the value they are given.
NON_RECORD_KWARGS = {
    "app_label": "accounts",
    "url": "sweep-unknown/",
    "token": "sweep-not-a-signed-token",  # an invitation or unsubscribe link (refused)
}
_CONVERTER = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>\w+)>")
_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


@dataclass(frozen=True)
class Endpoint:
    name: str  # URL name (namespaced), or the route when the pattern has none
    route: str  # the pattern as written, e.g. "api/v1/^accounts/(?P<pk>[0-9]{1,18})/$"
    kind: str  # "page", "api" or "admin"
    kwargs: tuple[str, ...]
    methods: tuple[str, ...]
    callback: object = field(compare=False, hash=False, repr=False)

    def path(self, values: dict[str, object]) -> str:
        """The URL with each argument replaced by its value (routes and regexes alike)."""
        route = _GROUP.sub(lambda m: str(values[m["name"]]), self.route)
        route = _CONVERTER.sub(lambda m: str(values[m["name"]]), route)
        route = route.replace("^", "").replace("$", "").replace("\\", "")
        return "/" + route

    def model_of(self, kwarg: str) -> type[Model] | None:
        """The kind of record ``kwarg`` names (None: no record, e.g. an app label)."""
        if kwarg in KWARG_MODELS:
            return KWARG_MODELS[kwarg]
        if self.kind == "admin":
            return _admin_model(self.name, self.route, kwarg)
        if self.kind == "api":
            if self.name in API_PK_MODELS:
                return API_PK_MODELS[self.name]
            cls = getattr(self.callback, "cls", None)
            queryset = getattr(cls, "queryset", None)
            if queryset is not None:
                return queryset.model
            serializer = getattr(cls, "serializer_class", None)
            return getattr(getattr(serializer, "Meta", None), "model", None)
        return PAGE_PK_MODELS.get(self.name)


def _admin_model(name: str, route: str, kwarg: str) -> type[Model] | None:
    if kwarg in ("app_label", "url"):
        return None
    if kwarg == "content_type_id":
        return apps.get_model("contenttypes", "ContentType")
    if name == "admin:view_on_site":
        return Account
    for model in admin.site._registry:
        label = (model._meta.app_label, model._meta.model_name)
        # Named patterns ("admin:accounts_account_change") or the unnamed redirect
        # ("admin/accounts/account/<path:object_id>/").
        if name.startswith("admin:{}_{}_".format(*label)) or route.startswith(
            "admin/{}/{}/".format(*label)
        ):
            return model
    return None


def _walk(patterns, prefix: str = "", namespace: str | None = None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace
            inner = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            if pattern.name:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            else:
                name = route
            yield name, route, pattern.callback


def _kwargs(route: str) -> tuple[str, ...]:
    groups = tuple(m["name"] for m in _GROUP.finditer(route))
    return groups + tuple(m["name"] for m in _CONVERTER.finditer(_GROUP.sub("", route)))


def schema_operations() -> dict[str, set[str]]:
    """OpenAPI path template ("/api/v1/accounts/{id}/") -> its methods, from drf-spectacular."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    verbs = {"get", "post", "put", "patch", "delete"}
    return {
        path: {verb.upper() for verb in ops if verb in verbs}
        for path, ops in schema["paths"].items()
    }


def schema_template(endpoint: Endpoint) -> str:
    """The OpenAPI path of an API pattern: arguments as {name}, ``pk`` as {id}."""
    values = {name: "{" + ("id" if name == "pk" else name) + "}" for name in endpoint.kwargs}
    return endpoint.path(values)


@cache
def discover() -> tuple[Endpoint, ...]:
    """Every URL pattern of the project with the methods to sweep.

    API patterns take their methods from the OpenAPI schema (an API pattern outside the schema
    is swept with GET and POST); pages and the admin with GET and POST (the methods a form uses).
    """
    operations = schema_operations()
    found = []
    for name, route, callback in _walk(get_resolver().url_patterns):
        kind = (
            "admin" if route.startswith("admin/") else "api" if route.startswith("api/") else "page"
        )
        endpoint = Endpoint(name, route, kind, _kwargs(route), ("GET", "POST"), callback)
        if kind == "api":
            methods = operations.get(schema_template(endpoint))
            if methods:
                endpoint = Endpoint(
                    name, route, kind, endpoint.kwargs, tuple(sorted(methods)), callback
                )
        found.append(endpoint)
    return tuple(found)


@dataclass(frozen=True)
class Target:
    """One way to fill an endpoint's arguments: whose records they are."""

    url: str
    team: str | None = None  # "a"/"b": records of that team
    owner: str | None = None  # personal records of this persona
    label: str = ""


def targets(endpoint: Endpoint, world: World) -> list[Target]:
    """The endpoint filled with each team's (and each personal owner's) records.

    The first argument that names a team or personal record decides whose records fill all
    the others; an argument of a kind no team owns takes the world's record of that kind.
    Raises LookupError for an argument the tables above do not know (extend them).
    """
    if not endpoint.kwargs:
        return [Target(endpoint.path({}))]
    models = {kwarg: endpoint.model_of(kwarg) for kwarg in endpoint.kwargs}
    unknown = [k for k in endpoint.kwargs if models[k] is None and k not in NON_RECORD_KWARGS]
    if unknown:
        raise LookupError(f"{endpoint.name}: no kind of record known for {unknown}")
    primary = next(
        (k for k in endpoint.kwargs if models[k] in world.records or models[k] in PERSONAL_MODELS),
        None,
    )
    if primary is None:
        return [Target(endpoint.path(_fill(models, world, team=None, owner=None)))]
    found = []
    if models[primary] in PERSONAL_MODELS:
        for owner, row in world.personal[models[primary]].items():
            values = _fill(models, world, team=None, owner=owner)
            values[primary] = row.pk
            found.append(Target(endpoint.path(values), owner=owner, label=f"of {owner}"))
        return found
    for team, rows in world.records[models[primary]].items():
        for index, row in enumerate(rows):
            values = _fill(models, world, team=team, owner=None)
            values[primary] = row.pk
            found.append(Target(endpoint.path(values), team=team, label=f"team {team} #{index}"))
    return found


def _fill(models, world: World, *, team, owner) -> dict[str, object]:
    values: dict[str, object] = {}
    for kwarg, model in models.items():
        if model is None:
            values[kwarg] = NON_RECORD_KWARGS[kwarg]
            continue
        if model._meta.label == "contenttypes.ContentType":
            values[kwarg] = model.objects.get_for_model(Account).pk
            continue
        row = None
        if model in PERSONAL_MODELS and owner:
            row = world.personal[model][owner]
        elif model in world.records and team:
            row = world.first(model, team)
        elif model in world.neutral:
            row = world.neutral[model]
        if row is None:
            row = model._default_manager.order_by("pk").first()
        # A kind with no row at all (admin of an empty table): a missing id, answered 404.
        values[kwarg] = row.pk if row is not None else 999999
    return values
