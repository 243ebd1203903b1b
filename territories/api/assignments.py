"""Account assignments, and the previews and applies that move accounts."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from salesmgmt.api.fields import VisibleRelatedField
from salesmgmt.api.filters import IdFilter, SyncFilterSet
from salesmgmt.api.viewsets import (
    VisibleReadOnlyViewSet,
)

from .. import selectors, services
from ..models import (
    AccountTerritoryAssignment,
    AssignmentRun,
)
from .fields import people_field


class AssignmentSerializer(serializers.ModelSerializer):
    account = serializers.SerializerMethodField()
    territory = VisibleRelatedField(read_only=True)
    assigned_by = people_field(read_only=True)

    class Meta:
        model = AccountTerritoryAssignment
        fields = [
            "id", "account", "territory", "effective_from", "effective_to", "source", "rule",
            "run", "assigned_by", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_account(self, row: AccountTerritoryAssignment) -> dict:
        return {"id": row.account_id, "name": row.account.name}


class MoveSerializer(serializers.Serializer):
    account_id = serializers.IntegerField()
    account_name = serializers.CharField()
    from_territory_id = serializers.IntegerField(allow_null=True)
    from_territory_name = serializers.CharField()
    to_territory_id = serializers.IntegerField()
    to_territory_name = serializers.CharField()
    to_owner_id = serializers.IntegerField()
    to_owner_name = serializers.CharField()
    potential = serializers.DecimalField(max_digits=18, decimal_places=2)
    rule_id = serializers.IntegerField(allow_null=True)
    rule_name = serializers.CharField()


class HeldSerializer(serializers.Serializer):
    account_id = serializers.IntegerField()
    account_name = serializers.CharField()
    reason = serializers.CharField()


class PlanSerializer(serializers.Serializer):
    kind = serializers.CharField()
    effective_on = serializers.DateField()
    fingerprint = serializers.CharField()
    moves = MoveSerializer(many=True)
    held = HeldSerializer(many=True)
    cv_before = serializers.FloatField(allow_null=True)
    cv_after = serializers.FloatField(allow_null=True)
    band = serializers.DecimalField(max_digits=5, decimal_places=4, allow_null=True)
    is_within_band_after = serializers.BooleanField(allow_null=True)


class PreviewRequestSerializer(serializers.Serializer):
    include_pinned = serializers.BooleanField(default=False)
    band = serializers.DecimalField(
        max_digits=5, decimal_places=4, min_value=Decimal("0.01"), max_value=Decimal(1),
        required=False, allow_null=True, help_text="Rebalancing band as a fraction (0.10 = ±10%).",
    )  # fmt: skip


class ApplyRequestSerializer(PreviewRequestSerializer):
    fingerprint = serializers.CharField(
        required=False, allow_blank=True, help_text="From the preview; a mismatch is a 409."
    )
    move_open_opportunities = serializers.BooleanField(default=False)


class RunSerializer(serializers.ModelSerializer):
    applied_by = people_field(read_only=True)

    class Meta:
        model = AssignmentRun
        fields = [
            "id", "kind", "applied_by", "effective_on", "move_open_opportunities",
            "moved_count", "opportunities_moved_count", "fingerprint", "note", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class AssignmentFilter(SyncFilterSet):
    account = IdFilter(field_name="account_id")
    territory = IdFilter(field_name="territory_id")

    class Meta:
        model = AccountTerritoryAssignment
        fields = ["account", "territory", "source"]


class AssignmentViewSet(VisibleReadOnlyViewSet):
    """Which territory holds which account (``?history=1`` for every past assignment too),
    and the previews and applies that move accounts: by the rules, or by rebalancing."""

    queryset = AccountTerritoryAssignment.objects.none()
    serializer_class = AssignmentSerializer
    filterset_class = AssignmentFilter
    ordering_fields = ["effective_from", "updated_at"]

    def visible_queryset(self):
        history = self.request.query_params.get("history") in ("1", "true")
        return selectors.assignment_list(viewer=self.request.user, current_only=not history)

    def _parsed(self, serializer_class) -> dict:
        data = self.request.data if self.request.method == "POST" else self.request.query_params
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(request=PreviewRequestSerializer, responses=PlanSerializer)
    @action(detail=False, methods=["get", "post"])
    def preview(self, request):
        """The moves applying the rules would make now (nothing is changed)."""
        data = self._parsed(PreviewRequestSerializer)
        plan = selectors.assignment_preview(
            actor=request.user, include_pinned=data["include_pinned"]
        )
        return Response(PlanSerializer(plan).data)

    @extend_schema(request=ApplyRequestSerializer, responses={201: RunSerializer})
    @action(detail=False, methods=["post"])
    def apply(self, request):
        """Apply the rules: exactly the moves of a fresh preview, in one transaction."""
        data = self._parsed(ApplyRequestSerializer)
        run = services.assignment_apply(
            actor=request.user,
            include_pinned=data["include_pinned"],
            move_open_opportunities=data["move_open_opportunities"],
            expected_fingerprint=data.get("fingerprint") or None,
        )
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PreviewRequestSerializer, responses=PlanSerializer)
    @action(detail=False, methods=["get", "post"], url_path="rebalance-preview")
    def rebalance_preview(self, request):
        """The fewest moves found that bring your territories' potential within the band."""
        data = self._parsed(PreviewRequestSerializer)
        plan = selectors.rebalance_preview(actor=request.user, band=data.get("band"))
        return Response(PlanSerializer(plan).data)

    @extend_schema(request=ApplyRequestSerializer, responses={201: RunSerializer})
    @action(detail=False, methods=["post"])
    def rebalance(self, request):
        """Apply the rebalancing proposal (a fresh preview, checked against ``fingerprint``)."""
        data = self._parsed(ApplyRequestSerializer)
        run = services.rebalance_apply(
            actor=request.user,
            band=data.get("band"),
            move_open_opportunities=data["move_open_opportunities"],
            expected_fingerprint=data.get("fingerprint") or None,
        )
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)
