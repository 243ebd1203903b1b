"""Territories and assignment rules: read by visibility, written by executives and admins."""

from __future__ import annotations

from django.db.models import Model
from rest_framework import serializers

from accounts.models import Account
from salesmgmt.api.fields import VisibleRelatedField
from salesmgmt.api.filters import IdFilter, SyncFilterSet
from salesmgmt.api.viewsets import (
    VisibleModelViewSet,
)

from .. import selectors, services
from ..models import (
    AssignmentRule,
    Territory,
)
from ..services.territories import RULE_FIELDS, TERRITORY_FIELDS
from .fields import people_field, visible_accounts, visible_territories


class OverlaySerializer(serializers.Serializer):
    user = people_field(read_only=True)
    overlay_role = serializers.CharField(read_only=True)
    effective_from = serializers.DateField(read_only=True)


class TerritorySerializer(serializers.ModelSerializer):
    owner = people_field()
    parent = VisibleRelatedField(
        queryset=Territory.objects.all(),
        visible=visible_territories,
        required=False,
        allow_null=True,
    )
    overlays = OverlaySerializer(source="open_overlays", many=True, read_only=True)

    class Meta:
        model = Territory
        fields = [
            "id", "name", "level", "parent", "owner", "overlays", "effective_from",
            "effective_to", "description", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]


class TerritoryFilter(SyncFilterSet):
    owner = IdFilter(field_name="owner_id")
    parent = IdFilter(field_name="parent_id")

    class Meta:
        model = Territory
        fields = ["owner", "parent", "level"]


CREATE_FIELDS = ("name", "owner", "level", "parent", "effective_from", "description")


class TerritoryViewSet(VisibleModelViewSet):
    """Territories you see (owned or overlaid by you or your team); executives and admins
    create and edit them. Changing ``owner`` keeps the ownership history and moves the
    territory's accounts to the new owner."""

    queryset = Territory.objects.none()
    serializer_class = TerritorySerializer
    filterset_class = TerritoryFilter
    search_fields = ["name"]
    ordering_fields = ["name", "created_at", "updated_at"]

    def visible_queryset(self):
        return selectors.territory_list(viewer=self.request.user)

    def perform_create(self, data: dict) -> Model:
        fields = {k: v for k, v in data.items() if k in CREATE_FIELDS}
        return services.territory_create(actor=self.request.user, **fields)

    def perform_update(self, instance, data, expected_version):
        owner = data.pop("owner", None)
        changes = {k: v for k, v in data.items() if k in TERRITORY_FIELDS}
        if changes:
            instance = services.territory_update(
                actor=self.request.user, territory=instance, **changes
            )
        if owner is not None and owner.pk != instance.owner_id:
            instance = services.territory_change_owner(
                actor=self.request.user, territory=instance, owner=owner
            )
        return instance


class RuleSerializer(serializers.ModelSerializer):
    territory = VisibleRelatedField(queryset=Territory.objects.all(), visible=visible_territories)
    named_accounts = VisibleRelatedField(
        many=True, required=False, queryset=Account.objects.all(), visible=visible_accounts
    )
    countries = serializers.ListField(child=serializers.CharField(), required=False)
    regions = serializers.ListField(child=serializers.CharField(), required=False)
    states = serializers.ListField(child=serializers.CharField(), required=False)
    industries = serializers.ListField(child=serializers.CharField(), required=False)

    class Meta:
        model = AssignmentRule
        fields = [
            "id", "name", "territory", "priority", "is_active", "countries", "regions",
            "states", "industries", "employee_count_min", "employee_count_max",
            "annual_revenue_min", "annual_revenue_max", "named_accounts", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]


class RuleFilter(SyncFilterSet):
    territory = IdFilter(field_name="territory_id")

    class Meta:
        model = AssignmentRule
        fields = ["territory", "is_active"]


class AssignmentRuleViewSet(VisibleModelViewSet):
    """Assignment rules of the territories you see, in evaluation order (lowest priority
    number first); executives and admins create and edit them."""

    queryset = AssignmentRule.objects.none()
    serializer_class = RuleSerializer
    filterset_class = RuleFilter
    search_fields = ["name"]
    ordering_fields = ["priority", "name", "updated_at"]

    def visible_queryset(self):
        return selectors.rule_list(viewer=self.request.user)

    def perform_create(self, data: dict) -> Model:
        return services.rule_create(actor=self.request.user, **data)

    def perform_update(self, instance, data, expected_version):
        named = data.pop("named_accounts", None)
        changes = {k: v for k, v in data.items() if k in RULE_FIELDS}
        return services.rule_update(
            actor=self.request.user, rule=instance, named_accounts=named, **changes
        )
