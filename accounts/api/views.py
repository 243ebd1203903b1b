"""Viewsets for accounts, contacts, the sales process, deals and activities.

Each reads through an ``accounts.selectors`` visibility selector and writes through
``accounts.services``, exactly as the pages do; see ``salesmgmt.api.viewsets`` for what the
base classes add (ETag/If-Match, Idempotency-Key, CSV export, expand, JSON errors).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from django.db.models import Model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response
from rest_framework.settings import api_settings

from salesmgmt.api.concurrency import PreconditionFailed, expected_version, if_match_tags
from salesmgmt.api.viewsets import (
    CreateMixin,
    ListMixin,
    RetrieveMixin,
    VisibleGenericViewSet,
    VisibleModelViewSet,
    VisibleReadOnlyViewSet,
)
from salesmgmt.errors import ConflictError
from salesmgmt.row_slices import IndexRange, VisibleRanges
from salesmgmt.visibility import visible_user_ids

from .. import selectors, services
from ..models import (
    Account,
    Activity,
    Contact,
    Milestone,
    MilestoneCompletion,
    Opportunity,
    SalesProcess,
    Stage,
)
from ..selectors import listing
from . import filters
from .serializers import (
    AccountSerializer,
    ActivitySerializer,
    AsOfQuerySerializer,
    CompletionRejectSerializer,
    ContactSerializer,
    LoseSerializer,
    MilestoneActionSerializer,
    MilestoneCompletionSerializer,
    MilestoneSerializer,
    OpportunityAsOfSerializer,
    OpportunityCreateSerializer,
    OpportunitySerializer,
    ReorderSerializer,
    SalesProcessSerializer,
    StageSerializer,
    WinSerializer,
)


@dataclass(frozen=True)
class AsOfRow:
    """What ``OpportunityAsOfSerializer`` shows: the deal (id, name) and its state then."""

    deal: Opportunity
    state: selectors.DealAsOf


def _conditional_on(request, instance: Model):
    """With If-Match (checked against ``instance``), the ``updated_at`` the service re-checks
    under its row lock: two writes passing the first check at once cannot both win."""
    tags = if_match_tags(request)
    return instance.updated_at if tags is not None and "*" not in tags else None


class AccountViewSet(VisibleModelViewSet):
    """Customer accounts: those you or your team own, or where you can see a deal."""

    keyset_pagination = True  # long lists: keyset pages unless ?page= (pagination.py)
    queryset = Account.objects.none()
    serializer_class = AccountSerializer
    filterset_class = filters.AccountFilter
    search_fields = ["name", "external_id"]
    ordering_fields = ["name", "annual_revenue", "created_at", "updated_at"]

    def visible_queryset(self):
        return selectors.account_list(viewer=self.request.user)

    def perform_create(self, data: dict) -> Model:
        return services.account_create(actor=self.request.user, **data)

    def perform_update(self, instance, data, expected_version):
        return services.account_update(
            actor=self.request.user,
            account=instance,
            expected_updated_at=_conditional_on(self.request, instance),
            **data,
        )


class ContactViewSet(VisibleModelViewSet):
    """People at the accounts you can see."""

    queryset = Contact.objects.none()
    serializer_class = ContactSerializer
    filterset_class = filters.ContactFilter
    search_fields = ["first_name", "last_name", "email"]
    ordering_fields = ["last_name", "first_name", "created_at", "updated_at"]

    def visible_queryset(self):
        return selectors.contact_list(viewer=self.request.user)

    def perform_create(self, data: dict) -> Model:
        return services.contact_create(actor=self.request.user, **data)

    def perform_update(self, instance, data, expected_version):
        return services.contact_update(
            actor=self.request.user,
            contact=instance,
            expected_updated_at=_conditional_on(self.request, instance),
            **data,
        )


class ConfiguresProcesses(BasePermission):
    """Everyone reads the sales processes; administrators and integrations change them
    (``accounts.services.may_configure_processes``): anyone else gets 403 before the body
    is read."""

    message = "Only an administrator can change sales processes."

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or services.may_configure_processes(request.user)


PROCESS_PERMISSIONS = [*api_settings.DEFAULT_PERMISSION_CLASSES, ConfiguresProcesses]


class SalesProcessViewSet(VisibleModelViewSet):
    """Sales processes with their stages and exit milestones: everyone reads them; admins and
    integrations create and edit them (stages and milestones through their own resources)."""

    queryset = SalesProcess.objects.none()
    serializer_class = SalesProcessSerializer
    filterset_class = filters.SalesProcessFilter
    permission_classes = PROCESS_PERMISSIONS
    search_fields = ["name"]
    ordering_fields = ["name", "updated_at"]

    def get_serializer_class(self):
        if getattr(self, "action", None) == "reorder_stages":
            return ReorderSerializer
        return SalesProcessSerializer

    def visible_queryset(self):
        return selectors.process_list()

    def perform_create(self, data: dict) -> Model:
        return services.sales_process_create(actor=self.request.user, **data)

    def perform_update(self, instance, data, expected_version):
        return services.sales_process_update(actor=self.request.user, process=instance, **data)

    @extend_schema(request=ReorderSerializer, responses=SalesProcessSerializer)
    @action(detail=True, methods=["post"], url_path="reorder-stages")
    def reorder_stages(self, request, pk=None):
        """Put the stages in the order of ``ids`` (every stage of the process, each once)."""
        process = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.stage_reorder(
            actor=request.user, process=process, stage_ids=serializer.validated_data["ids"]
        )
        return self.record_response(self.reload(process), serializer_class=SalesProcessSerializer)


class StageViewSet(VisibleModelViewSet):
    """Stages: admins add one (at the end of its process), rename it, change its default
    forecast category, or delete it while no deal stands in it."""

    queryset = Stage.objects.none()
    serializer_class = StageSerializer
    filterset_class = filters.StageFilter
    permission_classes = PROCESS_PERMISSIONS
    search_fields = ["name"]
    ordering_fields = ["order", "updated_at"]

    def get_serializer_class(self):
        if getattr(self, "action", None) == "reorder_milestones":
            return ReorderSerializer
        return StageSerializer

    def visible_queryset(self):
        return selectors.stage_list()

    def perform_create(self, data: dict) -> Model:
        return services.stage_create(actor=self.request.user, **data)

    def perform_update(self, instance, data, expected_version):
        data.pop("process", None)  # a stage stays in its process
        return services.stage_update(actor=self.request.user, stage=instance, **data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        """Delete the stage (400 while deals stand in it or its milestones were completed)."""
        services.stage_delete(actor=request.user, stage=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=ReorderSerializer, responses=StageSerializer)
    @action(detail=True, methods=["post"], url_path="reorder-milestones")
    def reorder_milestones(self, request, pk=None):
        """Put the stage's exit milestones in the order of ``ids`` (each once)."""
        stage = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.milestone_reorder(
            actor=request.user, stage=stage, milestone_ids=serializer.validated_data["ids"]
        )
        return self.record_response(self.reload(stage), serializer_class=StageSerializer)


class MilestoneViewSet(VisibleModelViewSet):
    """Exit milestones: admins add one (at the end of its stage), edit it, or delete it while
    no deal has completed it."""

    queryset = Milestone.objects.none()
    serializer_class = MilestoneSerializer
    filterset_class = filters.MilestoneFilter
    permission_classes = PROCESS_PERMISSIONS
    search_fields = ["name"]
    ordering_fields = ["order", "updated_at"]

    def visible_queryset(self):
        return selectors.milestone_list()

    def perform_create(self, data: dict) -> Model:
        return services.milestone_create(actor=self.request.user, **data)

    def perform_update(self, instance, data, expected_version):
        data.pop("stage", None)  # a milestone stays in its stage
        return services.milestone_update(actor=self.request.user, milestone=instance, **data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        """Delete the milestone (400 once a deal has completed it)."""
        services.milestone_delete(actor=request.user, milestone=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class OpportunityViewSet(VisibleModelViewSet):
    """Deals you can see. The stage moves only by completing milestones (``complete``/``undo``),
    the status only by ``win``/``lose``; each write bumps ``version`` (the ETag)."""

    keyset_pagination = True  # long lists: keyset pages unless ?page= (pagination.py)
    queryset = Opportunity.objects.none()
    filterset_class = filters.OpportunityFilter
    search_fields = ["name", "account__name"]
    ordering_fields = [
        "name",
        "amount",
        "expected_close_on",
        "stage_entered_at",
        "created_at",
        "updated_at",
    ]

    def get_serializer_class(self):
        serializers = {
            "create": OpportunityCreateSerializer,
            "complete": MilestoneActionSerializer,
            "undo": MilestoneActionSerializer,
            "win": WinSerializer,
            "lose": LoseSerializer,
        }
        return serializers.get(getattr(self, "action", None), OpportunitySerializer)

    def visible_queryset(self):
        deals = selectors.opportunity_list(viewer=self.request.user)
        return selectors.with_last_two_way_contact(selectors.with_won_override(deals))

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "as_of",
                OpenApiTypes.DATE,
                description="The deal as it stood at the end of that day (company time zone); "
                "400 for a bad or future date, 404 when the deal did not exist yet.",
            )
        ],
        responses={200: OpportunitySerializer},
    )
    def retrieve(self, request, *args, **kwargs):
        """The deal; with ``?as_of=YYYY-MM-DD``, as it stood then (``OpportunityAsOf``)."""
        if "as_of" not in request.query_params:
            return super().retrieve(request, *args, **kwargs)
        deal = self.get_object()  # visibility first: someone else's deal is a 404 either way
        query = AsOfQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        day = query.validated_data["as_of"]
        state = selectors.opportunity_on_day(opportunity=deal, day=day)
        if state is None:
            raise NotFound(f"The opportunity did not exist yet on {day.isoformat()}.")
        return Response(OpportunityAsOfSerializer(AsOfRow(deal=deal, state=state)).data)

    def perform_create(self, data: dict) -> Model:
        return services.opportunity_create(actor=self.request.user, **data)

    def perform_update(self, instance, data, expected_version):
        changes = {name: value for name, value in data.items() if name in services.EDITABLE_FIELDS}
        return services.opportunity_update(
            actor=self.request.user,
            opportunity=instance,
            expected_version=expected_version,
            **changes,
        )

    def _deal_action(self, write) -> object:
        """Parse the action's body, run the service on the deal, answer with the deal."""
        deal = self.get_object()
        self.check_if_match(deal)
        serializer = self.get_serializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        try:
            write(deal, serializer.validated_data)
        except ConflictError:
            if if_match_tags(self.request) is not None:
                raise PreconditionFailed() from None
            raise
        return self.record_response(self.reload(deal), serializer_class=OpportunitySerializer)

    @extend_schema(request=MilestoneActionSerializer, responses=OpportunitySerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Complete an exit milestone (with evidence where required); the stage may move."""
        return self._deal_action(
            lambda deal, data: services.milestone_complete(
                actor=request.user, opportunity=deal, **data
            )
        )

    @extend_schema(request=MilestoneActionSerializer, responses=OpportunitySerializer)
    @action(detail=True, methods=["post"])
    def undo(self, request, pk=None):
        """Withdraw a milestone completion (a new audit record); the stage may move back."""
        return self._deal_action(
            lambda deal, data: services.milestone_undo(
                actor=request.user,
                opportunity=deal,
                milestone=data["milestone"],
                note=data.get("note", ""),
            )
        )

    @extend_schema(request=WinSerializer, responses=OpportunitySerializer)
    @action(detail=True, methods=["post"])
    def win(self, request, pk=None):
        """Close the deal as won (``closed_on`` defaults to today)."""
        return self._deal_action(
            lambda deal, data: services.opportunity_close_won(
                actor=request.user,
                opportunity=deal,
                expected_version=expected_version(request),
                **data,
            )
        )

    @extend_schema(request=LoseSerializer, responses=OpportunitySerializer)
    @action(detail=True, methods=["post"])
    def lose(self, request, pk=None):
        """Close the deal as lost, saying why."""
        return self._deal_action(
            lambda deal, data: services.opportunity_close_lost(
                actor=request.user,
                opportunity=deal,
                expected_version=expected_version(request),
                **data,
            )
        )


class MilestoneCompletionViewSet(VisibleReadOnlyViewSet):
    """The milestone audit trail (completions and undos) of deals you can see; the owner's
    managers verify or reject evidence waiting for them (``verify``/``reject``), as on the
    deal page: a completion outside your visibility is 404, one you may not review 403."""

    # The audit trail grows without bound: keyset pages unless ?page= (counting every visible
    # completion for a numbered page took an executive 1.1 s at two million of them).
    keyset_pagination = True
    queryset = MilestoneCompletion.objects.none()
    serializer_class = MilestoneCompletionSerializer
    filterset_class = filters.MilestoneCompletionFilter
    ordering_fields = ["completed_at", "updated_at"]

    def get_serializer_class(self):
        if getattr(self, "action", None) == "reject":
            return CompletionRejectSerializer
        return MilestoneCompletionSerializer

    def visible_queryset(self):
        return selectors.milestone_completion_list(viewer=self.request.user)

    def _review(self, write) -> Response:
        """Visibility (404) and If-Match (412) first, then the body (400), then the service."""
        completion = self.get_object()
        self.check_if_match(completion)
        data = {}
        if self.get_serializer_class() is not MilestoneCompletionSerializer:
            serializer = self.get_serializer(data=self.request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        write(completion, data)
        return self.record_response(
            self.reload(completion), serializer_class=MilestoneCompletionSerializer
        )

    @extend_schema(request=None, responses=MilestoneCompletionSerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        """Accept the evidence of a completion waiting for verification."""
        return self._review(
            lambda completion, data: services.milestone_verify(
                actor=request.user, completion=completion
            )
        )

    @extend_schema(request=CompletionRejectSerializer, responses=MilestoneCompletionSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Send the evidence back, saying why: the milestone no longer counts as done."""
        return self._review(
            lambda completion, data: services.milestone_reject(
                actor=request.user, completion=completion, reason=data["reason"]
            )
        )


class ActivityViewSet(ListMixin, RetrieveMixin, CreateMixin, VisibleGenericViewSet):
    """Calls, meetings, emails, demos and tasks: yours, and those on deals you can see."""

    keyset_pagination = True  # long lists: keyset pages unless ?page= (pagination.py)
    queryset = Activity.objects.none()
    serializer_class = ActivitySerializer
    filterset_class = filters.ActivityFilter
    search_fields = ["notes", "next_step"]
    ordering_fields = ["occurred_at", "created_at", "updated_at"]

    # A filter on a column with an index of its own (a deal, an account, a person, an
    # integrator's id) finds its few rows there; read range by range, each visible person's
    # history would be walked looking for them.
    own_index_filters = ("owner", "account", "opportunity", "external_id")

    @cached_property
    def visible_people(self) -> list[int] | None:
        """The people whose activities the viewer sees (read once a request; ``None``: all)."""
        user = self.request.user
        return None if user.sees_everyone else visible_user_ids(user)

    def visible_queryset(self):
        return selectors.activity_list(viewer=self.request.user, people=self.visible_people)

    def keyset_ranges(self) -> VisibleRanges | None:
        """The visible activities as index ranges (pagination: read instead of sorted)."""
        people = self.visible_people
        params = self.request.query_params
        if people is None or any(name in params for name in self.own_index_filters):
            return None
        ranges = listing.activity_ranges(people)
        return VisibleRanges(
            ranges=tuple(IndexRange(column, keys) for column, keys in ranges),
            order=("occurred_at", "id"),
        )

    def perform_create(self, data: dict) -> Model:
        return services.activity_log(actor=self.request.user, **data)
