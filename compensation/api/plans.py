"""Compensation plans and their terms (read-only)."""

from __future__ import annotations

from rest_framework import serializers

from salesmgmt.api.viewsets import ListMixin, RetrieveMixin, VisibleGenericViewSet

from .. import selectors
from ..models import Plan, PlanComponent


class PlanComponentSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanComponent
        fields = [
            "id", "kind", "name", "parameters", "clawback_days", "effective_from",
            "effective_to", "order",
        ]  # fmt: skip


class CompensationPlanSerializer(serializers.ModelSerializer):
    components = PlanComponentSerializer(many=True, read_only=True)
    assignments = serializers.SerializerMethodField()

    class Meta:
        model = Plan
        fields = [
            "id", "name", "description", "manager_overlay_credit", "components", "assignments",
            "created_at", "updated_at",
        ]  # fmt: skip

    def get_assignments(self, plan: Plan) -> list[dict]:
        return [
            {
                "user": a.user_id,
                "role": a.role,
                "effective_from": a.effective_from,
                "effective_to": a.effective_to,
            }
            for a in plan.assignments.all()
        ]


class PlanViewSet(ListMixin, RetrieveMixin, VisibleGenericViewSet):
    """Compensation plans and their terms (read-only; plans are public to everyone)."""

    queryset = Plan.objects.none()
    serializer_class = CompensationPlanSerializer
    csv_export = False
    ordering_fields = ["name", "updated_at"]

    def visible_queryset(self):
        return selectors.plan_list()
