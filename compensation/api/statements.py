"""Statements with their lines, approval and adjustments; disputes on lines."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from salesmgmt.api.fields import MoneyField
from salesmgmt.api.viewsets import CreateMixin, ListMixin, RetrieveMixin, VisibleGenericViewSet

from .. import selectors, services
from ..models import Dispute, Statement, StatementLine

MONEY = {"max_digits": 16, "decimal_places": 2, "coerce_to_string": True}


def _money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(**MONEY, read_only=True, **kwargs)


class StatementLineSerializer(serializers.ModelSerializer):
    amount = _money()
    open_disputes = serializers.SerializerMethodField()

    class Meta:
        model = StatementLine
        fields = [
            "id", "position", "kind", "component", "opportunity", "amount", "explanation",
            "inputs", "linked_line", "open_disputes",
        ]  # fmt: skip

    def get_open_disputes(self, line: StatementLine) -> int:
        return sum(1 for d in line.disputes.all() if d.status == Dispute.Status.OPEN)


class StatementSerializer(serializers.ModelSerializer):
    period = serializers.CharField(source="run.period.name", read_only=True)
    period_id = serializers.IntegerField(source="run.period_id", read_only=True)
    run_status = serializers.CharField(source="run.status", read_only=True)
    rep_name = serializers.CharField(source="rep.__str__", read_only=True)
    bookings_amount = _money()
    quota_amount = _money(allow_null=True)
    total_amount = _money()
    adjustments_amount = _money()
    attainment = serializers.DecimalField(
        max_digits=12, decimal_places=6, coerce_to_string=True, read_only=True, allow_null=True
    )
    open_dispute_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Statement
        fields = [
            "id", "run", "run_status", "period", "period_id", "rep", "rep_name", "plan",
            "status", "bookings_amount", "quota_amount", "attainment", "compliance_score",
            "total_amount", "adjustments_amount", "open_dispute_count", "approved_by",
            "approved_at", "created_at", "updated_at",
        ]  # fmt: skip


class StatementAdjustmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    amount = MoneyField(signed=True, coerce_to_string=True)
    reason = serializers.CharField(max_length=500)
    created_by = serializers.IntegerField(source="created_by_id", read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class StatementDetailSerializer(StatementSerializer):
    lines = serializers.SerializerMethodField()
    adjustments = serializers.SerializerMethodField()

    class Meta(StatementSerializer.Meta):
        fields = [*StatementSerializer.Meta.fields, "lines", "adjustments"]

    def get_lines(self, statement: Statement) -> list[dict]:
        lines = selectors.statement_lines(statement=statement)
        return StatementLineSerializer(lines, many=True).data

    def get_adjustments(self, statement: Statement) -> list[dict]:
        rows = selectors.statement_adjustments(statement=statement)
        return StatementAdjustmentSerializer(rows, many=True).data


class StatementViewSet(ListMixin, RetrieveMixin, VisibleGenericViewSet):
    """Payout statements: your own, your team's (managers) or everyone's (executives)."""

    queryset = Statement.objects.none()
    csv_export = False
    filterset_fields = ["status", "rep", "run"]
    ordering_fields = ["created_at", "updated_at", "total_amount"]

    def get_serializer_class(self):
        if self.action == "retrieve":
            return StatementDetailSerializer
        if self.action == "adjust":
            return StatementAdjustmentSerializer
        return StatementSerializer

    def visible_queryset(self):
        period_id = self.request.query_params.get("period")
        qs = selectors.statement_list(viewer=self.request.user)
        if period_id and period_id.isdigit() and len(period_id) < 19:
            qs = qs.filter(run__period_id=int(period_id))
        return qs

    @extend_schema(request=None, responses=StatementSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """The rep's manager approves the statement, which locks it."""
        statement = self.get_object()
        services.statement_approve(actor=request.user, statement=statement)
        return self.record_response(self.reload(statement), serializer_class=StatementSerializer)

    @extend_schema(request=StatementAdjustmentSerializer, responses=StatementAdjustmentSerializer)
    @action(detail=True, methods=["post"])
    def adjust(self, request, pk=None):
        """Add an adjustment (amount and reason) to a locked statement."""
        statement = self.get_object()
        serializer = StatementAdjustmentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        adjustment = services.statement_adjustment_add(
            actor=request.user, statement=statement, **serializer.validated_data
        )
        return Response(
            StatementAdjustmentSerializer(adjustment).data, status=status.HTTP_201_CREATED
        )


class StatementDisputeSerializer(serializers.ModelSerializer):
    line = serializers.PrimaryKeyRelatedField(queryset=StatementLine.objects.none())
    statement = serializers.IntegerField(source="line.statement_id", read_only=True)

    class Meta:
        model = Dispute
        fields = [
            "id", "line", "statement", "raised_by", "text", "status", "resolution_note",
            "resolved_by", "resolved_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "raised_by", "status", "resolution_note", "resolved_by", "resolved_at",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            # Only lines of statements the caller sees can be named.
            self.fields["line"].queryset = StatementLine.objects.filter(
                statement__in=Statement.objects.visible_to(request.user).values("pk")
            )


class DisputeResolveSerializer(serializers.Serializer):
    resolution_note = serializers.CharField(max_length=2000)


class DisputeViewSet(ListMixin, RetrieveMixin, CreateMixin, VisibleGenericViewSet):
    """Disputes on statement lines: a rep raises one, their manager resolves it."""

    queryset = Dispute.objects.none()
    serializer_class = StatementDisputeSerializer
    csv_export = False
    filterset_fields = ["status"]
    ordering_fields = ["created_at", "updated_at"]

    def get_serializer_class(self):
        return DisputeResolveSerializer if self.action == "resolve" else StatementDisputeSerializer

    def visible_queryset(self):
        return selectors.dispute_list(viewer=self.request.user)

    def perform_create(self, data: dict) -> Dispute:
        return services.dispute_raise(actor=self.request.user, line=data["line"], text=data["text"])

    @extend_schema(request=DisputeResolveSerializer, responses=StatementDisputeSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        dispute = self.get_object()
        serializer = DisputeResolveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.dispute_resolve(
            actor=request.user, dispute=dispute, note=serializer.validated_data["resolution_note"]
        )
        return self.record_response(
            self.reload(dispute), serializer_class=StatementDisputeSerializer
        )
