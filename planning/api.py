"""API of planning: segments and their coverage, scenarios, and the plan's sizings.

Executives and administrators only (``salesmgmt.visibility.plans_sales_force``): anyone else
gets 403. Writes go through ``planning.services``; the plan is ``selectors.plan_view``, the
figures of the Plan page.
"""

from __future__ import annotations

from django.db.models import Model
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Product
from salesmgmt.api.viewsets import CreateMixin, ListMixin, RetrieveMixin, VisibleGenericViewSet
from salesmgmt.visibility import plans_sales_force

from . import selectors, services
from .engine import Sizing
from .models import PLANNED_ROLES, Coverage, PlannedHire, Scenario, Segment


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


class SegmentViewSet(ListMixin, RetrieveMixin, CreateMixin, VisibleGenericViewSet):
    """The segments of the sales task, with their coverage by sales role."""

    queryset = Segment.objects.none()
    serializer_class = PlanningSegmentSerializer
    permission_classes = PERMISSIONS
    ordering_fields = ["created_at", "updated_at"]

    def visible_queryset(self):
        return selectors.segment_list()

    def perform_create(self, data: dict) -> Model:
        return services.segment_create(actor=self.request.user, **data)

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
        fields = ["id", "sales_role", "start_month", "region", "headcount", "created_at"]
        read_only_fields = ["id", "created_at"]


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
