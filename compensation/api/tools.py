"""The what-if calculator and the payroll CSV export."""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from salesmgmt.api.fields import MoneyField
from salesmgmt.models import Role
from salesmgmt.selectors import period_get

from .. import selectors
from ..payroll import payroll_csv, payroll_filename

# Integrators export payroll into the payroll system; reps read their own statements instead.
PAYROLL_ROLES = (Role.MANAGER, Role.EXECUTIVE, Role.ADMIN, Role.INTEGRATOR)


# --- what-if and payroll ----------------------------------------------------------------------


class WhatIfDealSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    amount = MoneyField(min_value=Decimal("0.01"), coerce_to_string=True)
    closed_on = serializers.DateField()
    is_new_logo = serializers.BooleanField(required=False, default=False)


class WhatIfSerializer(serializers.Serializer):
    period = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    # Bounded so the totals stay inside the money columns (salesmgmt.money).
    deals = WhatIfDealSerializer(many=True, required=False, default=list, max_length=100)


class WhatIfLineSerializer(serializers.Serializer):
    kind = serializers.CharField()
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, coerce_to_string=True)
    explanation = serializers.CharField()
    opportunity = serializers.IntegerField(source="opportunity_id", allow_null=True)
    component = serializers.IntegerField(source="component_id", allow_null=True)
    inputs = serializers.DictField()


class WhatIfResultSerializer(serializers.Serializer):
    total = serializers.DecimalField(max_digits=16, decimal_places=2, coerce_to_string=True)
    bookings = serializers.DecimalField(max_digits=16, decimal_places=2, coerce_to_string=True)
    quota = serializers.DecimalField(
        max_digits=16, decimal_places=2, coerce_to_string=True, allow_null=True
    )
    attainment = serializers.DecimalField(
        max_digits=12, decimal_places=6, coerce_to_string=True, allow_null=True
    )
    lines = WhatIfLineSerializer(many=True)


class WhatIfView(APIView):
    """Your payout for a period if you also closed these deals (the payout engine itself)."""

    @extend_schema(request=WhatIfSerializer, responses=WhatIfResultSerializer)
    def post(self, request):
        serializer = WhatIfSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        period = period_get(pk=serializer.validated_data["period"])
        deals = [selectors.HypotheticalDeal(**deal) for deal in serializer.validated_data["deals"]]
        result = selectors.whatif(rep=request.user, period=period, deals=deals)
        return Response(WhatIfResultSerializer(result).data)


class PayrollExportView(APIView):
    """The payroll CSV for a period (managers see their team, executives and admins all)."""

    @extend_schema(responses={(200, "text/csv"): str})
    def get(self, request, period_id: int):
        if not (request.user.is_superuser or request.user.role in PAYROLL_ROLES):
            raise PermissionDenied("The payroll export is for managers, executives and admins.")
        period = period_get(pk=period_id)
        rows = selectors.payroll_rows(viewer=request.user, period=period)
        response = HttpResponse(payroll_csv(period=period, rows=rows), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{payroll_filename(period)}"'
        return response
