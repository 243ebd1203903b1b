"""API of planning: segments and their coverage, scenarios, and the plan's sizings.

Executives and administrators only (``salesmgmt.visibility.plans_sales_force``): anyone else
gets 403. Writes go through ``planning.services``; the plan is ``selectors.plan_view``, the
figures of the Plan page.
"""

from __future__ import annotations

from typing import cast

from django.db.models import Model
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Product
from salesmgmt.api.fields import MoneyField
from salesmgmt.api.viewsets import (
    CreateMixin,
    ListMixin,
    RetrieveMixin,
    UpdateMixin,
    VisibleGenericViewSet,
)
from salesmgmt.models import Role, User
from salesmgmt.visibility import plans_sales_force
from territories.models import Territory

from . import hiring, selectors, services
from .engine import Sizing
from .models import PLANNED_ROLES, Coverage, PlannedHire, RoleCapacity, Scenario, Segment


class PlansSalesForce(BasePermission):
    message = "Only executives and administrators plan the sales force."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated) and plans_sales_force(
            request.user
        )


PERMISSIONS = [*APIView.permission_classes, PlansSalesForce]


class PlanningCoverageSerializer(serializers.ModelSerializer):
    sales_role = serializers.ChoiceField(choices=PLANNED_ROLES)

    class Meta:
        model = Coverage
        fields = [
            "id", "sales_role", "activities_per_account", "hours_per_activity", "win_rate",
            "deal_size", "cycle_days",
        ]  # fmt: skip
        read_only_fields = ["id"]
        validators: list = []  # the service replaces the segment's row for the role


class PlanningSegmentSerializer(serializers.ModelSerializer):
    products = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Product.objects.all(), required=False
    )
    coverages = PlanningCoverageSerializer(many=True, read_only=True)

    class Meta:
        model = Segment
        fields = [
            "id", "name", "priority", "countries", "regions", "states", "industries",
            "employee_count_min", "employee_count_max", "annual_revenue_min",
            "annual_revenue_max", "products", "coverages", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "coverages", "created_at", "updated_at"]


class SegmentViewSet(ListMixin, RetrieveMixin, CreateMixin, UpdateMixin, VisibleGenericViewSet):
    """The segments of the sales task, with their coverage by sales role. Deleting one
    deletes its coverage; scenarios name no segment and size the segments left."""

    queryset = Segment.objects.none()
    serializer_class = PlanningSegmentSerializer
    permission_classes = PERMISSIONS
    ordering_fields = ["created_at", "updated_at"]

    def visible_queryset(self):
        return selectors.segment_list()

    def perform_create(self, data: dict) -> Model:
        return services.segment_create(actor=self.request.user, **data)

    def perform_update(self, instance: Model, data: dict, expected_version: int | None) -> Model:
        return services.segment_update(
            actor=self.request.user, segment=cast(Segment, instance), **data
        )

    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.segment_delete(actor=request.user, segment=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=PlanningCoverageSerializer, responses=PlanningSegmentSerializer)
    @action(detail=True, methods=["post"])
    def coverage(self, request: Request, pk: str | None = None) -> Response:
        """Set how a sales role covers this segment (replaces that role's row)."""
        segment = self.get_object()
        parsed = PlanningCoverageSerializer(data=request.data)
        parsed.is_valid(raise_exception=True)
        services.coverage_set(actor=request.user, segment=segment, **parsed.validated_data)
        return self.record_response(self.reload(segment))


class PlanningScenarioSerializer(serializers.ModelSerializer):
    class Meta:
        model = Scenario
        fields = [
            "id", "name", "target", "selling_hours", "coverage_factor", "win_rate",
            "productivity", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "created_at", "updated_at"]


class ScenarioViewSet(ListMixin, RetrieveMixin, CreateMixin, VisibleGenericViewSet):
    """Saved what-ifs: the plan's inputs with some overridden."""

    queryset = Scenario.objects.none()
    serializer_class = PlanningScenarioSerializer
    permission_classes = PERMISSIONS
    ordering_fields = ["created_at", "updated_at"]

    def visible_queryset(self):
        return selectors.scenario_list()

    def perform_create(self, data: dict) -> Model:
        return services.scenario_create(actor=self.request.user, **data)

    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.scenario_delete(actor=request.user, scenario=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class PlanningRoleSizingSerializer(serializers.Serializer):
    sales_role = serializers.CharField()
    fte = serializers.FloatField()
    people = serializers.IntegerField()
    today = serializers.IntegerField()
    gap = serializers.IntegerField()


class PlanningSizingSerializer(serializers.Serializer):
    name = serializers.CharField()
    scenario = serializers.IntegerField(allow_null=True)
    target = serializers.FloatField()
    workload = PlanningRoleSizingSerializer(many=True)
    productivity = serializers.FloatField(allow_null=True)
    revenue_fte = serializers.FloatField(allow_null=True)
    revenue_reps = serializers.IntegerField(allow_null=True)
    quota_carriers_today = serializers.IntegerField()
    revenue_gap = serializers.IntegerField(allow_null=True)


class PlanningHistorySerializer(serializers.Serializer):
    win_rate = serializers.DecimalField(max_digits=5, decimal_places=4, allow_null=True)
    deal_size = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    cycle_days = serializers.IntegerField(allow_null=True)
    productivity = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)


class SalesForcePlanSerializer(serializers.Serializer):
    target = serializers.DecimalField(max_digits=16, decimal_places=2)
    history = PlanningHistorySerializer()
    sizings = PlanningSizingSerializer(many=True, help_text="The plan first, then each scenario.")


def _sizing(name: str, scenario: Scenario | None, sizing: Sizing) -> dict:
    return {
        "name": name,
        "scenario": scenario.pk if scenario else None,
        "target": sizing.target,
        "workload": sizing.by_role.to_dict("records"),
        "productivity": sizing.productivity,
        "revenue_fte": sizing.revenue_fte,
        "revenue_reps": sizing.revenue_reps,
        "quota_carriers_today": sizing.quota_carriers_today,
        "revenue_gap": sizing.revenue_gap,
    }


class PlanView(APIView):
    """The Plan page's figures: history, target, both sizings of the plan and each scenario."""

    permission_classes = PERMISSIONS

    @extend_schema(responses=SalesForcePlanSerializer)
    def get(self, request: Request) -> Response:
        view = selectors.plan_view()
        sizings = [_sizing("Plan", None, view.baseline)]
        sizings += [_sizing(s.name, s.scenario, s.sizing) for s in view.scenarios]
        data = {"target": view.target, "history": view.history, "sizings": sizings}
        return Response(SalesForcePlanSerializer(data).data)


class PlannedHireSerializer(serializers.ModelSerializer):
    sales_role = serializers.ChoiceField(choices=PLANNED_ROLES)

    class Meta:
        model = PlannedHire
        fields = [
            "id", "sales_role", "start_month", "region", "headcount", "hired_user", "hired_on",
            "created_at",
        ]  # fmt: skip
        read_only_fields = ["id", "hired_user", "hired_on", "created_at"]


class MarkHiredSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=150)
    last_name = serializers.CharField(max_length=150)
    email = serializers.EmailField()
    hired_on = serializers.DateField(help_text="The person's start date.")
    manager = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True, role=Role.MANAGER), required=False,
        allow_null=True,
    )  # fmt: skip
    territory = serializers.PrimaryKeyRelatedField(
        queryset=Territory.objects.all(), required=False, allow_null=True,
        help_text="The territory they take over (optional).",
    )  # fmt: skip
    ramped_quota = MoneyField(
        min_value=1, required=False, allow_null=True,
        help_text="A ramped rep's quota a year; default: history's bookings per ramped rep.",
    )  # fmt: skip


class PlannedHireViewSet(ListMixin, RetrieveMixin, CreateMixin, VisibleGenericViewSet):
    """Hires planned by role, month and region (the start month's first day is kept)."""

    queryset = PlannedHire.objects.none()
    serializer_class = PlannedHireSerializer
    permission_classes = PERMISSIONS
    ordering_fields = ["created_at", "updated_at"]

    def visible_queryset(self):
        return selectors.planned_hire_list()

    def perform_create(self, data: dict) -> Model:
        return services.planned_hire_create(actor=self.request.user, **data)

    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.planned_hire_delete(actor=request.user, hire=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=MarkHiredSerializer, responses=PlannedHireSerializer)
    @action(detail=True, methods=["post"])
    def hire(self, request: Request, pk: str | None = None) -> Response:
        """Mark one seat hired: creates the person, their territory and ramped quotas; a seat
        already filled is 400."""
        parsed = MarkHiredSerializer(data=request.data)
        parsed.is_valid(raise_exception=True)
        hired = services.planned_hire_mark_hired(
            actor=request.user, hire=self.get_object(), **parsed.validated_data
        )
        return self.record_response(self.reload(hired))


class RoleCapacitySerializer(serializers.ModelSerializer):
    sales_role = serializers.ChoiceField(choices=PLANNED_ROLES)

    class Meta:
        model = RoleCapacity
        fields = [
            "id", "sales_role", "selling_hours", "hours_per_activity", "annual_attrition",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "updated_at"]
        validators: list = []  # the service replaces the role's row


class RoleCapacityViewSet(
    ListMixin, RetrieveMixin, CreateMixin, UpdateMixin, VisibleGenericViewSet
):
    """Each sales role's selling hours a year, hours per activity and attrition. POST sets a
    role's row (created or replaced); PATCH changes one."""

    queryset = RoleCapacity.objects.none()
    serializer_class = RoleCapacitySerializer
    permission_classes = PERMISSIONS
    ordering_fields = ["created_at", "updated_at"]

    def visible_queryset(self):
        return selectors.role_capacity_list()

    def perform_create(self, data: dict) -> Model:
        return services.role_capacity_set(actor=self.request.user, **data)

    def perform_update(self, instance: Model, data: dict, expected_version: int | None) -> Model:
        instance = cast(RoleCapacity, instance)
        values = {
            "sales_role": instance.sales_role,
            "selling_hours": instance.selling_hours,
            "annual_attrition": instance.annual_attrition,
            "hours_per_activity": instance.hours_per_activity,
            **data,
        }
        if values["sales_role"] != instance.sales_role:
            raise serializers.ValidationError({"sales_role": "A row's role cannot change."})
        return services.role_capacity_set(actor=self.request.user, **values)


class PlanVsActualCellSerializer(serializers.Serializer):
    sales_role = serializers.CharField()
    month = serializers.DateField()
    region = serializers.CharField()
    planned = serializers.IntegerField()
    hired = serializers.IntegerField()
    open = serializers.IntegerField()


class PlanVsActualHireSerializer(serializers.Serializer):
    planned_hire = serializers.IntegerField(source="hire.pk")
    person = serializers.IntegerField(source="hire.hired_user_id")
    name = serializers.CharField(source="hire.hired_user.get_full_name")
    sales_role = serializers.CharField(source="hire.sales_role")
    planned_month = serializers.DateField(source="hire.start_month")
    hired_on = serializers.DateField(source="hire.hired_on")
    delay_months = serializers.IntegerField()
    quota = serializers.DecimalField(max_digits=18, decimal_places=2)
    bookings = serializers.DecimalField(max_digits=18, decimal_places=2)
    attainment = serializers.DecimalField(max_digits=8, decimal_places=4, allow_null=True)


class PlanVsActualSerializer(serializers.Serializer):
    planned_total = serializers.IntegerField()
    hired_total = serializers.IntegerField()
    quota_total = serializers.DecimalField(max_digits=18, decimal_places=2)
    bookings_total = serializers.DecimalField(max_digits=18, decimal_places=2)
    headcount = PlanVsActualCellSerializer(many=True)
    hired = PlanVsActualHireSerializer(many=True)


class PlanVsActualView(APIView):
    """The hiring plan against what happened: headcount per role, month and region, and each
    hired person's month, ramped quotas and bookings of the quarters so far."""

    permission_classes = PERMISSIONS

    @extend_schema(responses=PlanVsActualSerializer)
    def get(self, request: Request) -> Response:
        return Response(PlanVsActualSerializer(hiring.plan_vs_actual()).data)


class RampCohortSerializer(serializers.Serializer):
    cohort = serializers.CharField()
    reps = serializers.IntegerField()
    first_deal = serializers.FloatField()
    half = serializers.FloatField(allow_null=True)
    full = serializers.FloatField(allow_null=True)


class RampSerializer(serializers.Serializer):
    first_deal = serializers.FloatField(help_text="Median months from hire to the first won deal.")
    half = serializers.FloatField(help_text="... to 50 % of a ramped rep's monthly bookings.")
    full = serializers.FloatField(help_text="... to 100 %.")
    cohorts = RampCohortSerializer(many=True)


class CapacityMonthSerializer(serializers.Serializer):
    month = serializers.DateField()
    capacity = serializers.FloatField()
    target = serializers.FloatField()
    cumulative_capacity = serializers.FloatField()
    cumulative_target = serializers.FloatField()
    gap = serializers.FloatField()


class CapacityPlanSerializer(serializers.Serializer):
    productivity = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    ramp = RampSerializer()
    months = CapacityMonthSerializer(many=True)


def _nulls(records: list[dict]) -> list[dict]:
    """NaN (a milestone not reached yet) as null."""
    return [{k: (None if v != v else v) for k, v in row.items()} for row in records]


class CapacityPlanView(APIView):
    """The hiring and ramp plan: the learned ramp and the year's ramped capacity by month."""

    permission_classes = PERMISSIONS

    @extend_schema(responses=CapacityPlanSerializer)
    def get(self, request: Request) -> Response:
        view = selectors.capacity_view()
        curve = view.curve
        data = {
            "productivity": view.productivity,
            "ramp": {
                "first_deal": curve.first_deal,
                "half": curve.half,
                "full": curve.full,
                "cohorts": _nulls(curve.cohorts.to_dict("records")),
            },
            "months": view.months.to_dict("records"),
        }
        return Response(CapacityPlanSerializer(data).data)
