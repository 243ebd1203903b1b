"""Quotas with their audit log, and attainment."""

from __future__ import annotations

from django.db.models import Model
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from salesmgmt.api.fields import MoneyField, VisibleRelatedField
from salesmgmt.api.filters import IdFilter, SyncFilterSet
from salesmgmt.api.viewsets import (
    CreateMixin,
    ListMixin,
    RetrieveMixin,
    UpdateMixin,
    VisibleGenericViewSet,
)
from salesmgmt.models import Period, User

from .. import selectors, services
from ..models import (
    Quota,
    QuotaChange,
)
from .fields import people_field


class QuotaSerializer(serializers.ModelSerializer):
    user = people_field()
    period = serializers.PrimaryKeyRelatedField(queryset=Period.objects.all())
    territory = VisibleRelatedField(read_only=True)
    reason = serializers.CharField(write_only=True, max_length=255)
    amount = MoneyField(
        required=False, allow_null=True, help_text="Setting it makes the quota explicit."
    )

    class Meta:
        model = Quota
        fields = [
            "id", "user", "period", "territory", "basis", "territory_quota", "assignment_share",
            "ramp_factor", "manager_adjustment", "amount", "version", "reason", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = ["ramp_factor", "version", "created_at", "updated_at"]
        extra_kwargs = {
            "basis": {"required": False},
            "territory_quota": {"required": False},
            "assignment_share": {"required": False},
            "manager_adjustment": {"required": False},
        }
        validators: list = []  # one quota per person and period: the service upserts


class QuotaChangeSerializer(serializers.ModelSerializer):
    changed_by = people_field(read_only=True)

    class Meta:
        model = QuotaChange
        fields = [
            "id", "field", "old_value", "new_value", "reason", "source", "changed_by",
            "changed_at",
        ]  # fmt: skip
        read_only_fields = fields


class QuotaFilter(SyncFilterSet):
    user = IdFilter(field_name="user_id")
    period = IdFilter(field_name="period_id")
    territory = IdFilter(field_name="territory_id")

    class Meta:
        model = Quota
        fields = ["user", "period", "territory", "basis"]


QUOTA_TERMS = ("basis", "territory_quota", "assignment_share", "manager_adjustment", "amount")


class QuotaViewSet(ListMixin, RetrieveMixin, CreateMixin, UpdateMixin, VisibleGenericViewSet):
    """Quotas of the people you see. Writes need a ``reason`` (kept in the audit log) and are
    for a person's managers, executives and admins; POST upserts the person's quota for the
    period. The ETag is the quota's ``version``."""

    queryset = Quota.objects.none()
    serializer_class = QuotaSerializer
    filterset_class = QuotaFilter
    ordering_fields = ["amount", "updated_at"]

    def visible_queryset(self):
        return selectors.quota_list(viewer=self.request.user)

    def _write(self, person: User, period: Period, data: dict, version: int | None) -> Quota:
        changes = {k: data[k] for k in QUOTA_TERMS if k in data}
        if changes.get("amount") is None:
            changes.pop("amount", None)
        return services.quota_update(
            actor=self.request.user,
            person=person,
            period=period,
            reason=data["reason"],
            expected_version=version,
            **changes,
        )

    def perform_create(self, data: dict) -> Model:
        return self._write(data["user"], data["period"], data, None)

    def perform_update(self, instance, data, expected_version):
        if "reason" not in data:
            raise serializers.ValidationError({"reason": ["Say why the quota changes."]})
        return self._write(instance.user, instance.period, data, expected_version)

    @extend_schema(responses=QuotaChangeSerializer(many=True))
    @action(detail=True, methods=["get"])
    def changes(self, request, pk=None):
        """The quota's audit log, newest first."""
        quota = self.get_object()
        return Response(QuotaChangeSerializer(selectors.quota_history(quota=quota), many=True).data)


class AttainmentSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(allow_null=True)
    period = serializers.IntegerField()
    bookings = serializers.DecimalField(max_digits=18, decimal_places=2)
    quota = serializers.DecimalField(max_digits=18, decimal_places=2)
    ramped_quota = serializers.DecimalField(max_digits=18, decimal_places=2)
    ratio = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    is_explicit = serializers.BooleanField()


class AttainmentQuerySerializer(serializers.Serializer):
    period = serializers.PrimaryKeyRelatedField(queryset=Period.objects.all())
    user = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    scope = serializers.ChoiceField(choices=["person", "company"], default="person")


class AttainmentView(APIView):
    """Attainment for a period: a person's (a manager's covers their subtree; default: you)
    or, for executives and admins, the company's (``scope=company``)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("period", int, required=True),
            OpenApiParameter("user", int),
            OpenApiParameter("scope", str, enum=["person", "company"]),
        ],
        responses=AttainmentSerializer,
    )
    def get(self, request):
        query = AttainmentQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        period = query.validated_data["period"]
        if query.validated_data["scope"] == "company":
            if not request.user.sees_everyone:
                raise serializers.ValidationError({"scope": ["Only for the whole organisation."]})
            result = selectors.attainment_company(period=period)
        else:
            person_id = query.validated_data.get("user") or request.user.pk
            person = selectors.person_get(viewer=request.user, pk=person_id)
            result = selectors.attainment_for(user=person, period=period)
        data = {
            "user_id": result.user_id,
            "period": period.pk,
            "bookings": result.bookings,
            "quota": result.quota,
            "ramped_quota": result.ramped_quota,
            "ratio": result.ratio,
            "is_explicit": result.is_explicit,
        }
        return Response(AttainmentSerializer(data).data)
