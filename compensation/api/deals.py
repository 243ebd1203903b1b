"""A deal's credit: splits, cancellation and the lines it paid."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Opportunity
from salesmgmt.api.viewsets import RetrieveMixin, VisibleGenericViewSet
from salesmgmt.models import User
from salesmgmt.visibility import visible_users

from .. import selectors, services

# --- a deal's credit --------------------------------------------------------------------------


class SplitShareSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.none())
    percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        coerce_to_string=True,
        min_value=Decimal("0.01"),
        max_value=Decimal(100),
    )


class CreditSplitsSerializer(serializers.Serializer):
    splits = SplitShareSerializer(many=True, allow_empty=True)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            # Only people the caller can see can be credited.
            people = visible_users(request.user).filter(is_active=True)
            self.fields["splits"].child.fields["user"].queryset = people


class CancellationSerializer(serializers.Serializer):
    cancelled_on = serializers.DateField()
    reason = serializers.CharField(max_length=255)


class DealCreditSerializer(serializers.Serializer):
    opportunity = serializers.IntegerField(source="opportunity.pk")
    owner = serializers.IntegerField(source="opportunity.owner_id")
    splits = serializers.SerializerMethodField()
    cancellation = serializers.SerializerMethodField()
    lines = serializers.SerializerMethodField()

    def get_splits(self, credit: selectors.DealCredit) -> list[dict]:
        if credit.is_default:
            return [{"user": credit.opportunity.owner_id, "percent": "100.00"}]
        return [{"user": s.user_id, "percent": f"{s.percent:.2f}"} for s in credit.splits]

    def get_cancellation(self, credit: selectors.DealCredit) -> dict | None:
        cancellation = credit.cancellation
        if cancellation is None:
            return None
        return {
            "cancelled_on": cancellation.cancelled_on,
            "reason": cancellation.reason,
            "recorded_by": cancellation.recorded_by_id,
        }

    def get_lines(self, credit: selectors.DealCredit) -> list[dict]:
        return [
            {
                "id": line.pk,
                "statement": line.statement_id,
                "kind": line.kind,
                "amount": f"{line.amount:.2f}",
            }
            for line in credit.lines
        ]


class DealCreditViewSet(RetrieveMixin, VisibleGenericViewSet):
    """A deal's credit: splits (owner 100% by default), cancellation, and the lines it paid."""

    queryset = Opportunity.objects.none()
    serializer_class = DealCreditSerializer
    csv_export = False

    def get_serializer_class(self):
        return {"splits": CreditSplitsSerializer, "cancel": CancellationSerializer}.get(
            self.action, DealCreditSerializer
        )

    def visible_queryset(self):
        return Opportunity.objects.visible_to(self.request.user).select_related("owner")

    def credit_response(self, deal: Opportunity, status_code: int = 200) -> Response:
        credit = selectors.deal_credit(viewer=self.request.user, opportunity=deal)
        return Response(DealCreditSerializer(credit).data, status=status_code)

    def retrieve(self, request, *args, **kwargs):
        return self.credit_response(self.get_object())

    @extend_schema(request=CreditSplitsSerializer, responses=DealCreditSerializer)
    @action(detail=True, methods=["post"])
    def splits(self, request, pk=None):
        """Replace the deal's credit splits (shares sum to 100%; empty = owner 100%)."""
        deal = self.get_object()
        serializer = CreditSplitsSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        shares = [(s["user"], s["percent"]) for s in serializer.validated_data["splits"]]
        services.credit_splits_set(actor=request.user, opportunity=deal, splits=shares)
        return self.credit_response(deal)

    @extend_schema(request=CancellationSerializer, responses=DealCreditSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Record that the customer cancelled this won deal (pay in the window is clawed back)."""
        deal = self.get_object()
        serializer = CancellationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.deal_cancellation_record(
            actor=request.user, opportunity=deal, **serializer.validated_data
        )
        return self.credit_response(deal, status.HTTP_201_CREATED)
