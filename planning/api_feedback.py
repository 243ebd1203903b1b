"""API of the feed-back report: the Feed back page's figures for a period, as JSON.

Who may read it is ``salesmgmt.visibility.reads_feedback`` (planners, executives and
administrators: the company; managers: their subtree's deals); anyone else gets 403.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from salesmgmt.selectors import period_get
from salesmgmt.visibility import reads_feedback

from .feedback import feedback_report
from .views_feedback import REFUSAL, records


class ReadsFeedback(BasePermission):
    message = REFUSAL

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated) and reads_feedback(request.user)


class FeedbackQuerySerializer(serializers.Serializer):
    period = serializers.IntegerField(
        required=False, min_value=1, max_value=10**18 - 1, help_text="Default: this quarter."
    )


class FeedbackRowSerializer(serializers.Serializer):
    key = serializers.CharField(help_text='A segment ("Unassigned": none), product or source.')
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    win_rate = serializers.FloatField(allow_null=True)
    won_value = serializers.FloatField()
    average_deal = serializers.FloatField(allow_null=True)
    median_cycle_days = serializers.FloatField(allow_null=True)
    activities_per_won_deal = serializers.FloatField(allow_null=True)
    reps = serializers.IntegerField()
    revenue_per_rep = serializers.FloatField(allow_null=True)


class FeedbackAssumptionSerializer(serializers.Serializer):
    segment = serializers.CharField()
    sales_role = serializers.CharField()
    accounts = serializers.IntegerField()
    planned_win_rate = serializers.FloatField(allow_null=True)
    actual_win_rate = serializers.FloatField(allow_null=True)
    planned_deal_size = serializers.FloatField(allow_null=True)
    actual_deal_size = serializers.FloatField(allow_null=True)
    planned_cycle_days = serializers.FloatField(allow_null=True)
    actual_cycle_days = serializers.FloatField(allow_null=True)
    planned_activities_per_account = serializers.FloatField(allow_null=True)
    actual_activities_per_account = serializers.FloatField(allow_null=True)


class FeedbackPeriodSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    start_on = serializers.DateField()
    end_on = serializers.DateField()


class FeedbackReportSerializer(serializers.Serializer):
    period = FeedbackPeriodSerializer()
    segment = FeedbackRowSerializer(many=True)
    product = FeedbackRowSerializer(many=True)
    lead_source = FeedbackRowSerializer(many=True)
    total = FeedbackRowSerializer(allow_null=True)
    assumptions = FeedbackAssumptionSerializer(many=True)


class FeedbackView(APIView):
    """Win/loss and productivity by segment, product and lead source; planned vs actual."""

    permission_classes = [*APIView.permission_classes, ReadsFeedback]

    @extend_schema(
        parameters=[OpenApiParameter("period", int, description="A period id (default: now).")],
        responses=FeedbackReportSerializer,
    )
    def get(self, request: Request) -> Response:
        query = FeedbackQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        period = period_get(pk=query.validated_data.get("period"))
        report = feedback_report(viewer=request.user, period=period)  # type: ignore[arg-type]
        total = records(report.total)
        data = {
            "period": period,
            "segment": records(report.segment),
            "product": records(report.product),
            "lead_source": records(report.lead_source),
            "total": total[0] if total else None,
            "assumptions": records(report.assumptions),
        }
        return Response(FeedbackReportSerializer(data).data)
