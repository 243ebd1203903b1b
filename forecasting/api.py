"""The forecasting API: calls, adjustments, rollups, KPIs, snapshots, flags, probabilities.

Thin: serializers parse and format, viewsets read through ``forecasting.selectors.reads``
(visibility-scoped) and write through ``forecasting.services.calls``. Aggregates are lists
of precomputed rows, filterable by period, person and scope.
"""

from __future__ import annotations

from django.db.models import Model
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts.selectors import company_today
from salesmgmt.api.fields import VisibleRelatedField
from salesmgmt.api.filters import MAX_ID, IdFilter
from salesmgmt.api.pagination import PagePagination
from salesmgmt.api.viewsets import (
    CreateMixin,
    ListMixin,
    RetrieveMixin,
    VisibleGenericViewSet,
)
from salesmgmt.models import Period, User
from salesmgmt.selectors import period_get
from salesmgmt.visibility import visible_users

from .api_analysis import DriverSerializer
from .models import (
    CallLayer,
    DealProbability,
    FlagKind,
    ForecastCall,
    ForecastRollup,
    InspectionFlag,
    KpiSnapshot,
    OpportunitySnapshot,
)
from .selectors import reads, snapshots
from .selectors.outlook import outlooks_for
from .services import calls


def _periods(user):
    return Period.objects.all()


class CallSerializer(serializers.ModelSerializer):
    person = VisibleRelatedField(read_only=True)
    period = VisibleRelatedField(queryset=Period.objects.all(), visible=_periods)
    submitted_by = VisibleRelatedField(read_only=True)

    class Meta:
        model = ForecastCall
        fields = [
            "id",
            "person",
            "period",
            "layer",
            "commit_amount",
            "best_case_amount",
            "previous_commit_amount",
            "previous_best_case_amount",
            "note",
            "submitted_by",
            "submitted_at",
        ]
        read_only_fields = [
            "layer",
            "previous_commit_amount",
            "previous_best_case_amount",
            "submitted_at",
        ]


class AdjustmentSerializer(CallSerializer):
    person = VisibleRelatedField(queryset=User.objects.all(), visible=visible_users)
    note = serializers.CharField(max_length=500)


class CallFilter(filters.FilterSet):
    period = IdFilter(field_name="period_id")
    person = IdFilter(field_name="person_id")


class AggregateFilter(filters.FilterSet):
    period = IdFilter(field_name="period_id")
    person = IdFilter(field_name="person_id")
    scope = filters.CharFilter()
    # Every period kind has figures: ``period_kind=year&year=2023`` is FY2023's row.
    period_kind = filters.ChoiceFilter(field_name="period__kind", choices=Period.Kind.choices)
    year = filters.NumberFilter(field_name="period__start_on__year")


class _Calls(ListMixin, RetrieveMixin, CreateMixin, VisibleGenericViewSet):
    queryset = ForecastCall.objects.none()
    filterset_class = CallFilter
    pagination_class = PagePagination
    layer = CallLayer.OWNER

    def visible_queryset(self):
        return reads.call_list(viewer=self.request.user, layer=self.layer)


class CallViewSet(_Calls):
    """Each person's calls (every submission kept); POST submits the caller's own call."""

    serializer_class = CallSerializer

    def perform_create(self, data: dict) -> Model:
        return calls.call_submit(actor=self.request.user, **data)


class AdjustmentViewSet(_Calls):
    """Managers' adjustments of someone below them; POST adjusts (a note is required)."""

    serializer_class = AdjustmentSerializer
    layer = CallLayer.MANAGER

    def perform_create(self, data: dict) -> Model:
        return calls.call_adjust(actor=self.request.user, **data)


class RollupSerializer(serializers.ModelSerializer):
    class Meta:
        model = ForecastRollup
        exclude = ["id"]


class KpiSerializer(serializers.ModelSerializer):
    period_name = serializers.CharField(source="period.name", read_only=True)
    period_kind = serializers.CharField(source="period.kind", read_only=True)

    class Meta:
        model = KpiSnapshot
        exclude = ["id"]


class PeriodStatusSerializer(serializers.ModelSerializer):
    pending_changes = serializers.IntegerField(read_only=True)
    is_recomputing = serializers.SerializerMethodField()

    class Meta:
        model = Period
        fields = ["id", "kind", "name", "start_on", "end_on", "pending_changes", "is_recomputing"]

    def get_is_recomputing(self, period: Period) -> bool:
        return period.pending_changes > 0  # type: ignore[attr-defined]


class SnapshotSerializer(serializers.ModelSerializer):
    class Meta:
        model = OpportunitySnapshot
        exclude = ["id"]


class FlagSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    # "imported_unworked": an imported deal nobody worked here yet (not neglect); else
    # "inspection".
    group = serializers.SerializerMethodField()

    class Meta:
        model = InspectionFlag
        fields = ["opportunity", "owner", "kind", "kind_label", "group", "detail", "computed_at"]

    def get_group(self, flag: InspectionFlag) -> str:
        return "imported_unworked" if flag.kind == FlagKind.IMPORTED_UNWORKED else "inspection"


class ProbabilitySerializer(serializers.ModelSerializer):
    drivers = serializers.SerializerMethodField(
        help_text="An open deal's three biggest drivers (largest first); empty for a won deal."
    )

    class Meta:
        model = DealProbability
        exclude = ["id"]

    @extend_schema_field(DriverSerializer(many=True))
    def get_drivers(self, row: DealProbability) -> list[dict]:
        # The view computes the page's outlooks at once (outlooks_for): no query per row.
        outlook = self.context["view"].outlooks.get(row.opportunity_id)
        return DriverSerializer(outlook.drivers, many=True).data if outlook else []


class _Aggregates(ListMixin, VisibleGenericViewSet):
    pagination_class = PagePagination
    filterset_class = AggregateFilter


class WeekQuerySerializer(serializers.Serializer):
    """``?week=`` (any day of a past week) with the optional person and period."""

    week = serializers.DateField(help_text="Any day of a past week (YYYY-MM-DD).")
    person = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    period = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)

    def validate_week(self, value):
        if value > company_today():
            raise serializers.ValidationError(
                "Choose a past week: snapshots are taken as weeks go by."
            )
        return value


class SnapshotFiguresSerializer(serializers.Serializer):
    person = serializers.SerializerMethodField()
    scope = serializers.CharField()
    pipeline_amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    best_case_amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    commit_amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    omitted_amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    weighted_amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    open_deal_count = serializers.IntegerField()

    def get_person(self, row) -> dict:
        return {"id": row.person.pk, "name": str(row.person)}


class RollupViewSet(_Aggregates):
    """Forecast rollups per person, period and scope (own deals or reporting subtree).

    With ``?week=YYYY-MM-DD``: that past week's figures from its snapshot of the open deals
    instead — the person's (``person``, default you) own and subtree rows, then each direct
    report's, for ``period`` (default: the quarter of that week). 404 when no snapshot was
    taken that week; 400 for a bad or future date.
    """

    queryset = ForecastRollup.objects.none()
    serializer_class = RollupSerializer

    def visible_queryset(self):
        return reads.rollup_list(viewer=self.request.user)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "week",
                OpenApiTypes.DATE,
                description="A past week's figures from its snapshot (any day of the week).",
            )
        ]
    )
    def list(self, request, *args, **kwargs):
        if "week" not in request.query_params:
            return super().list(request, *args, **kwargs)
        query = WeekQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        person_id = data.get("person")
        person = reads.person_get(viewer=request.user, pk=person_id) if person_id else request.user
        period = period_get(pk=data.get("period"), day=data["week"])
        week, rows = snapshots.snapshot_week_figures(person=person, period=period, day=data["week"])
        if week.taken_on is None:
            raise NotFound(
                f"No forecast snapshot was taken in the week of {week.week_start.isoformat()} "
                f"to {week.week_end.isoformat()}."
            )
        return Response(
            {
                "week_start": week.week_start.isoformat(),
                "week_end": week.week_end.isoformat(),
                "taken_on": week.taken_on.isoformat(),
                "person": {"id": person.pk, "name": str(person)},
                "period": {"id": period.pk, "name": period.name},
                "results": SnapshotFiguresSerializer(rows, many=True).data,
            }
        )


class KpiViewSet(_Aggregates):
    """KPIs per person, period and scope (definitions in forecasting.analytics.kpis)."""

    queryset = KpiSnapshot.objects.none()
    serializer_class = KpiSerializer

    def visible_queryset(self):
        return reads.kpi_list(viewer=self.request.user)


class PeriodFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=Period.Kind.choices)
    year = filters.NumberFilter(field_name="start_on__year")


class PeriodViewSet(ListMixin, RetrieveMixin, VisibleGenericViewSet):
    """Every period (years, quarters, months), with how many changes of its figures are
    pending: while any is, its figures are being recomputed."""

    queryset = Period.objects.none()
    serializer_class = PeriodStatusSerializer
    pagination_class = PagePagination
    filterset_class = PeriodFilter

    def visible_queryset(self):
        return reads.period_status_list()


class SnapshotFilter(filters.FilterSet):
    taken_on = filters.DateFilter()
    opportunity = IdFilter(field_name="opportunity_id")


class SnapshotViewSet(ListMixin, VisibleGenericViewSet):
    """Weekly snapshots of open deals."""

    queryset = OpportunitySnapshot.objects.none()
    serializer_class = SnapshotSerializer
    pagination_class = PagePagination
    filterset_class = SnapshotFilter

    def visible_queryset(self):
        return reads.snapshot_list(viewer=self.request.user)


class FlagFilter(filters.FilterSet):
    kind = filters.CharFilter()
    owner = IdFilter(field_name="owner_id")


class FlagViewSet(ListMixin, VisibleGenericViewSet):
    """Inspection flags on the deals you can see."""

    queryset = InspectionFlag.objects.none()
    serializer_class = FlagSerializer
    pagination_class = PagePagination
    filterset_class = FlagFilter

    def visible_queryset(self):
        return reads.flag_list(viewer=self.request.user)


class ProbabilityFilter(filters.FilterSet):
    period = IdFilter(field_name="period_id")
    owner = IdFilter(field_name="owner_id")


class ProbabilityViewSet(ListMixin, VisibleGenericViewSet):
    """Each in-period deal's effective category and win probability."""

    queryset = DealProbability.objects.none()
    serializer_class = ProbabilitySerializer
    pagination_class = PagePagination
    filterset_class = ProbabilityFilter

    outlooks: dict = {}  # set per request: the outlooks of the rows of one page

    def visible_queryset(self):
        return reads.probability_list(viewer=self.request.user)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        self.outlooks = outlooks_for(page or [])
        return page
