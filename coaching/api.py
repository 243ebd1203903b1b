"""API of the coaching app: account reviews, call debriefs, development plans, resource requests.

Thin serializers (parse and format); viewsets read through ``coaching.selectors`` (visibility
first: a record outside it is a 404) and write through ``coaching.services``. The base classes
in ``salesmgmt.api.viewsets`` add ETags, Idempotency-Key replays, CSV export and JSON errors.
"""

from __future__ import annotations

from django.db.models import Model
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Account, Opportunity
from salesmgmt.api.fields import VisibleRelatedField
from salesmgmt.api.filters import IdFilter, SyncFilterSet
from salesmgmt.api.serializers import UserSummarySerializer
from salesmgmt.api.viewsets import (
    CreateMixin,
    ListMixin,
    RetrieveMixin,
    VisibleGenericViewSet,
)
from salesmgmt.models import User
from salesmgmt.visibility import visible_users

from . import selectors, services
from .models import (
    AccountReview,
    ActionItem,
    CallDebrief,
    DevelopmentPlan,
    ResourceKind,
    ResourceRequest,
    ScorecardTemplate,
    SkillTag,
)


def _people_field(**kwargs) -> VisibleRelatedField:
    return VisibleRelatedField(
        queryset=User.objects.all(), visible=visible_users, expanded=UserSummarySerializer, **kwargs
    )


def _visible_accounts(user: User):
    return Account.objects.visible_to(user)


def _visible_opportunities(user: User):
    return Opportunity.objects.visible_to(user).select_related("owner", "stage")


def _templates(user: User):
    return ScorecardTemplate.objects.all()


# --- reviews ------------------------------------------------------------------------------------


class ReviewActionItemSerializer(serializers.ModelSerializer):
    owner = VisibleRelatedField(read_only=True)

    class Meta:
        model = ActionItem
        fields = ["id", "description", "owner", "due_on", "done_at"]
        read_only_fields = fields


class AccountReviewSerializer(serializers.ModelSerializer):
    account = VisibleRelatedField(queryset=Account.objects.all(), visible=_visible_accounts)
    template = VisibleRelatedField(
        queryset=ScorecardTemplate.objects.all(), visible=_templates, required=False
    )
    attendees = serializers.PrimaryKeyRelatedField(
        many=True, queryset=User.objects.all(), required=False
    )
    created_by = VisibleRelatedField(read_only=True)
    action_items = ReviewActionItemSerializer(many=True, read_only=True)

    class Meta:
        model = AccountReview
        fields = [
            "id", "account", "template", "held_on", "attendees", "notes", "created_by",
            "action_items", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "created_by", "action_items", "created_at", "updated_at"]


class AccountReviewFilter(SyncFilterSet):
    account = IdFilter(field_name="account_id")

    class Meta:
        model = AccountReview
        fields = ["account"]


class AccountReviewViewSet(ListMixin, RetrieveMixin, CreateMixin, VisibleGenericViewSet):
    """Account reviews of accounts you can see; creating one records the meeting."""

    queryset = AccountReview.objects.none()
    serializer_class = AccountReviewSerializer
    filterset_class = AccountReviewFilter
    ordering_fields = ["held_on", "created_at", "updated_at"]

    def visible_queryset(self):
        return selectors.review_list(viewer=self.request.user).prefetch_related(
            "attendees", "action_items__owner"
        )

    def perform_create(self, data: dict) -> Model:
        return services.review_create(actor=self.request.user, **data)


# --- debriefs -----------------------------------------------------------------------------------


class CallDebriefSerializer(serializers.ModelSerializer):
    rep = _people_field()
    manager = VisibleRelatedField(read_only=True)
    opportunity = VisibleRelatedField(
        queryset=Opportunity.objects.all(),
        visible=_visible_opportunities,
        required=False,
        allow_null=True,
    )
    skills = serializers.SlugRelatedField(
        many=True,
        slug_field="name",
        queryset=SkillTag.objects.filter(is_active=True),
        required=False,
    )

    class Meta:
        model = CallDebrief
        fields = [
            "id", "rep", "manager", "opportunity", "held_on", "went_well", "to_improve",
            "skills", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "manager", "created_at", "updated_at"]


class CallDebriefFilter(SyncFilterSet):
    rep = IdFilter(field_name="rep_id")

    class Meta:
        model = CallDebrief
        fields = ["rep"]


class CallDebriefViewSet(ListMixin, RetrieveMixin, CreateMixin, VisibleGenericViewSet):
    """Debriefs of joint calls: the rep and their managers see them; managers write them."""

    queryset = CallDebrief.objects.none()
    serializer_class = CallDebriefSerializer
    filterset_class = CallDebriefFilter
    ordering_fields = ["held_on", "created_at", "updated_at"]

    def visible_queryset(self):
        return selectors.debrief_list(viewer=self.request.user)

    def perform_create(self, data: dict) -> Model:
        return services.debrief_create(actor=self.request.user, **data)


# --- development plans ----------------------------------------------------------------------------


class DevelopmentPlanSerializer(serializers.ModelSerializer):
    rep = _people_field()
    created_by = VisibleRelatedField(read_only=True)
    # The programme enrolment the plan follows (its progress: /api/v1/enrolments/<id>/).
    enrolment = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = DevelopmentPlan
        fields = [
            "id", "rep", "created_by", "title", "assessed_needs", "status", "evaluation",
            "evaluated_on", "enrolment", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "id", "created_by", "status", "evaluation", "evaluated_on", "enrolment",
            "created_at", "updated_at",
        ]  # fmt: skip


class DevelopmentPlanFilter(SyncFilterSet):
    rep = IdFilter(field_name="rep_id")
    status = filters.ChoiceFilter(choices=DevelopmentPlan.Status.choices)

    class Meta:
        model = DevelopmentPlan
        fields = ["rep", "status"]


class DevelopmentPlanViewSet(ListMixin, RetrieveMixin, CreateMixin, VisibleGenericViewSet):
    """Development plans of the people you see; managers start them for their reps."""

    queryset = DevelopmentPlan.objects.none()
    serializer_class = DevelopmentPlanSerializer
    filterset_class = DevelopmentPlanFilter
    ordering_fields = ["created_at", "updated_at"]

    def visible_queryset(self):
        return selectors.plan_list(viewer=self.request.user)

    def perform_create(self, data: dict) -> Model:
        return services.plan_create(actor=self.request.user, **data)


# --- resource requests --------------------------------------------------------------------------


class ResourceRequestSerializer(serializers.ModelSerializer):
    opportunity = VisibleRelatedField(
        queryset=Opportunity.objects.all(), visible=_visible_opportunities
    )
    # Named apart from the other APIs' "kind" fields, so its schema enum has its own name.
    resource_kind = serializers.ChoiceField(source="kind", choices=ResourceKind.choices)
    requested_by = VisibleRelatedField(read_only=True)
    decided_by = VisibleRelatedField(read_only=True, allow_null=True)
    # A joint call or review: whose week it booked (coaching.capacity).
    booked_manager = VisibleRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = ResourceRequest
        fields = [
            "id", "opportunity", "resource_kind", "needed_by", "note", "status", "requested_by",
            "decided_by", "decided_at", "decision_note", "criteria_snapshot", "booked_manager",
            "booked_week", "booked_hours", "is_over_capacity", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "id", "status", "requested_by", "decided_by", "decided_at", "decision_note",
            "criteria_snapshot", "booked_manager", "booked_week", "booked_hours",
            "is_over_capacity", "created_at", "updated_at",
        ]  # fmt: skip


class ResourceDecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    over_capacity = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Approve a joint call or review past the manager's weekly capacity (with a "
        "reason in note); otherwise such an approval is refused with 400.",
    )


class ManagerTimeQuerySerializer(serializers.Serializer):
    manager = serializers.IntegerField(required=False, min_value=1, max_value=10**18 - 1)


class ManagerWeekSerializer(serializers.Serializer):
    week = serializers.DateField(help_text="The week's Monday.")
    booked = serializers.DecimalField(max_digits=7, decimal_places=2)
    capacity = serializers.DecimalField(max_digits=7, decimal_places=2)
    free = serializers.DecimalField(max_digits=7, decimal_places=2)
    is_over = serializers.BooleanField()


class ManagerTimeSerializer(serializers.Serializer):
    manager = serializers.IntegerField()
    weeks = ManagerWeekSerializer(many=True, help_text="This week and the next three.")


class ResourceRequestFilter(SyncFilterSet):
    opportunity = IdFilter(field_name="opportunity_id")
    status = filters.ChoiceFilter(choices=ResourceRequest.Status.choices)

    class Meta:
        model = ResourceRequest
        fields = ["opportunity", "status"]


class ResourceRequestViewSet(ListMixin, RetrieveMixin, CreateMixin, VisibleGenericViewSet):
    """Pre-sales help (SE time, demo, POC) or the manager's time (joint call, deal review)
    asked on a deal; the owner's manager decides."""

    queryset = ResourceRequest.objects.none()
    serializer_class = ResourceRequestSerializer
    filterset_class = ResourceRequestFilter
    ordering_fields = ["created_at", "updated_at"]

    def get_serializer_class(self):
        if getattr(self, "action", None) == "decide":
            return ResourceDecisionSerializer
        return ResourceRequestSerializer

    def visible_queryset(self):
        return selectors.request_list(viewer=self.request.user)

    def perform_create(self, data: dict) -> Model:
        return services.resource_request_create(actor=self.request.user, **data)

    @extend_schema(
        parameters=[
            OpenApiParameter("manager", int, description="A person you see (default: you).")
        ],
        responses=ManagerTimeSerializer,
    )
    @action(detail=False, methods=["get"], url_path="manager-time")
    def manager_time(self, request):
        """A manager's hours for joint calls and reviews: booked against capacity, by week."""
        query = ManagerTimeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        pk = query.validated_data.get("manager", request.user.pk)
        person = selectors.person_get(viewer=request.user, pk=pk)
        weeks = selectors.week_loads(manager_id=person.pk, first_week=timezone.localdate())
        return Response(ManagerTimeSerializer({"manager": person.pk, "weeks": weeks}).data)

    @extend_schema(request=ResourceDecisionSerializer, responses=ResourceRequestSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """Approve (only when the criteria are met) or decline (with a reason)."""
        resource_request = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decided = services.resource_request_decide(
            actor=request.user, request=resource_request, **serializer.validated_data
        )
        return self.record_response(
            self.reload(decided), serializer_class=ResourceRequestSerializer
        )
