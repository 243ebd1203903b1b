"""Reads that were pages only: the pipeline waterfall, the projection, a deal's outlook.

``GET /api/v1/forecast-waterfall/`` and ``GET /api/v1/forecast-projection/`` read the same
selectors as the waterfall and forecast pages (``reads.waterfall_for``,
``projection.projection_for``), for a person the caller can see (404 otherwise; default:
the caller) and a period (default: the current quarter).
``GET /api/v1/opportunities/{id}/probability/`` is the deal page's probability panel
(``outlook.deal_outlook``); ``GET /api/v1/forecast-calibration/`` the calibration page's
buckets and Brier score. Each answer carries an ``ETag``
(a digest of its body) and a GET naming it in ``If-None-Match`` gets 304.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import opportunity_get
from salesmgmt.api.concurrency import content_etag, is_not_modified
from salesmgmt.api.fields import MAX_ID
from salesmgmt.api.pagination import MAX_PAGE_SIZE
from salesmgmt.models import Period, User
from salesmgmt.selectors import period_get

from .selectors import reads
from .selectors.calibration import brier_summary
from .selectors.outlook import LABELS, deal_outlook
from .selectors.projection import projection_for

PERSON = OpenApiParameter("person", OpenApiTypes.INT, description="Default: you.")
PERIOD = OpenApiParameter("period", OpenApiTypes.INT, description="Default: this quarter.")


class NodeQuery(serializers.Serializer):
    person = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    period = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)


class WaterfallQuery(NodeQuery):
    start = serializers.DateField(required=False, help_text="Default: a week ago.")
    end = serializers.DateField(required=False, help_text="Default: today.")

    def validate(self, attrs: dict) -> dict:
        start, end = attrs.get("start"), attrs.get("end")
        if start and end and start > end:
            # The page form's message, on the field a caller would change.
            raise serializers.ValidationError(
                {"start": "The start date must come before the end date."}
            )
        return attrs


def _node(request: Request, query: serializers.Serializer) -> tuple[User, Period]:
    """The person asked for (visibility: 404) and the period (404 for an unknown one)."""
    viewer: User = request.user  # type: ignore[assignment]
    person_id = query.validated_data.get("person")
    person = reads.person_get(viewer=viewer, pk=person_id) if person_id else viewer
    return person, period_get(pk=query.validated_data.get("period"))


def _conditional(request: Request, data: dict) -> Response:
    """``data`` with its ETag, or 304 when the caller already holds this answer."""
    etag = content_etag(data)
    if is_not_modified(request, etag):
        return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
    return Response(data, headers={"ETag": etag})


def _end_of(day: dt.date) -> dt.datetime:
    """The end of a calendar day in the current time zone: "as of that date" (as the page)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.max))


class WaterfallStepSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    amount = serializers.FloatField(help_text="Reporting currency.")
    count = serializers.IntegerField()
    measure = serializers.ChoiceField(choices=["absolute", "relative", "total"])


class WaterfallChangeSerializer(serializers.Serializer):
    opportunity = serializers.IntegerField()
    owner = serializers.IntegerField()
    change_type = serializers.CharField()
    delta = serializers.FloatField()
    start_amount = serializers.FloatField()
    end_amount = serializers.FloatField()


class WaterfallSerializer(serializers.Serializer):
    person = serializers.IntegerField()
    period = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField()
    steps = WaterfallStepSerializer(many=True)
    count = serializers.IntegerField(help_text="Changed deals in all.")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    changes = WaterfallChangeSerializer(many=True, help_text="Largest drops first, a page.")


class ChangesPagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class WaterfallView(APIView):
    """What changed in the open pipeline of the person's subtree for the period between two
    dates (the waterfall page): the steps from start to end by change type, and the changed
    deals, largest drops first, a page at a time."""

    conditional_get = True  # ETag and 304 (documented by salesmgmt.api.schema)

    @extend_schema(parameters=[PERSON, PERIOD, WaterfallQuery], responses=WaterfallSerializer)
    def get(self, request: Request) -> Response:
        query = WaterfallQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        person, period = _node(request, query)
        today = timezone.localdate()
        start = query.validated_data.get("start") or max(
            period.start_on, today - dt.timedelta(days=7)
        )
        end = query.validated_data.get("end") or max(today, start)
        steps, changes = reads.waterfall_for(
            person=person, period=period, start_at=_end_of(start), end_at=_end_of(end)
        )
        rows = [
            {
                "opportunity": int(row["opportunity_id"]),
                "owner": int(row["owner_id"]),
                "change_type": row["change_type"],
                "delta": float(row["delta"]),
                "start_amount": float(row["start_amount"]),
                "end_amount": float(row["end_amount"]),
            }
            for row in changes.sort_values(["delta", "opportunity_id"]).to_dict("records")
        ]
        paginator = ChangesPagination()
        page = paginator.paginate_queryset(rows, request, view=self) or []
        data = {
            "person": person.pk,
            "period": period.pk,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "steps": WaterfallStepSerializer(steps.to_dict("records"), many=True).data,
            "count": len(rows),
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "changes": page,
        }
        return _conditional(request, data)


class ProjectionSerializer(serializers.Serializer):
    person = serializers.IntegerField()
    period = serializers.IntegerField()
    source = serializers.CharField(help_text="The projection method the backtest ranks best.")
    source_label = serializers.CharField()
    # Every figure is null until the period's rollup of the person is computed.
    projection_amount = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    projection_weighted_amount = serializers.DecimalField(
        max_digits=20, decimal_places=2, allow_null=True
    )
    projection_run_rate_amount = serializers.DecimalField(
        max_digits=20, decimal_places=2, allow_null=True
    )
    closed_amount = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    weighted_amount = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    expected_new_amount = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    p10_amount = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    p50_amount = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    p90_amount = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    computed_at = serializers.DateTimeField(allow_null=True)


ROLLUP_FIGURES = [
    "projection_weighted_amount",
    "projection_run_rate_amount",
    "closed_amount",
    "weighted_amount",
    "expected_new_amount",
    "p10_amount",
    "p50_amount",
    "p90_amount",
    "computed_at",
]


class ProjectionView(APIView):
    """The projection of the person's subtree for the period (the forecast page's): both
    model projections, the one the backtest ranks best, and the Monte Carlo range. Figures
    are null until the period's rollup is computed."""

    conditional_get = True  # ETag and 304 (documented by salesmgmt.api.schema)

    @extend_schema(parameters=[PERSON, PERIOD], responses=ProjectionSerializer)
    def get(self, request: Request) -> Response:
        query = NodeQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        person, period = _node(request, query)
        projected = projection_for(person=person, period=period)
        rollup = projected.rollup
        data = {
            "person": person.pk,
            "period": period.pk,
            "source": projected.source,
            "source_label": projected.source_label,
            "projection_amount": projected.amount,
            **{name: getattr(rollup, name) if rollup else None for name in ROLLUP_FIGURES},
        }
        return _conditional(request, ProjectionSerializer(data).data)


class DriverSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=list(LABELS))
    label = serializers.CharField()
    effect = serializers.FloatField(help_text="Change in win probability (0.12 = +12 points).")
    detail = serializers.CharField()


class OutlookSerializer(serializers.Serializer):
    opportunity = serializers.IntegerField(source="opportunity_id")
    probability = serializers.FloatField()
    base = serializers.FloatField(help_text="The process's base win rate.")
    milestones_done = serializers.IntegerField()
    milestones_total = serializers.IntegerField()
    age_days = serializers.IntegerField()
    pushes = serializers.IntegerField(help_text="Times the close date moved later.")
    computed_at = serializers.DateTimeField()
    drivers = DriverSerializer(many=True, help_text="The three biggest, largest first.")


class DealProbabilityView(APIView):
    """An open deal's win probability with its three biggest drivers (milestones done and
    missing, age, the owner's record, close date pushes), as on the deal page. 404 for a
    deal you cannot see, a closed deal, or one whose probability is not computed yet."""

    conditional_get = True  # ETag and 304 (documented by salesmgmt.api.schema)

    @extend_schema(responses=OutlookSerializer)
    def get(self, request: Request, pk: int) -> Response:
        deal = opportunity_get(viewer=request.user, pk=pk)  # type: ignore[arg-type]
        outlook = deal_outlook(opportunity=deal) if deal.is_open else None
        if outlook is None:
            raise NotFound("No win probability: the deal is closed or not computed yet.")
        return _conditional(request, OutlookSerializer(outlook).data)


class CalibrationBucketSerializer(serializers.Serializer):
    process = serializers.CharField()
    bucket_low = serializers.FloatField()
    bucket_high = serializers.FloatField()
    predicted_rate = serializers.FloatField()
    actual_rate = serializers.FloatField()
    count = serializers.IntegerField(help_text="Held-out looks in the bucket.")


class BrierQuarterSerializer(serializers.Serializer):
    period = serializers.IntegerField(source="period_id")
    name = serializers.CharField()
    start_on = serializers.DateField()
    brier = serializers.FloatField()
    change = serializers.FloatField(allow_null=True, help_text="From the quarter before.")
    looks = serializers.IntegerField(help_text="Weekly predictions scored.")
    deals = serializers.IntegerField()


class BrierSerializer(serializers.Serializer):
    overall = serializers.FloatField(allow_null=True)
    latest = serializers.FloatField(allow_null=True)
    change = serializers.FloatField(allow_null=True)
    quarters = BrierQuarterSerializer(many=True, source="rows")


class CalibrationSerializer(serializers.Serializer):
    buckets = CalibrationBucketSerializer(many=True)
    brier = BrierSerializer()


class CalibrationView(APIView):
    """The calibration page: predicted vs actual win rate by bucket on held-out deals, and
    the Brier score of the weekly probabilities by quarter of close (0 is perfect, 0.25 a
    coin flip; lower is better), with its change from quarter to quarter."""

    conditional_get = True  # ETag and 304 (documented by salesmgmt.api.schema)

    @extend_schema(responses=CalibrationSerializer)
    def get(self, request: Request) -> Response:
        buckets = reads.calibration_frame()
        brier = brier_summary(today=timezone.localdate())
        data = CalibrationSerializer({"buckets": buckets.to_dict("records"), "brier": brier}).data
        return _conditional(request, data)
