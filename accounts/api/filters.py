"""Filters for the accounts API (django-filter); every one also has ``updated_since``."""

from __future__ import annotations

from django_filters import rest_framework as filters

from salesmgmt.api.filters import IdFilter, SyncFilterSet, UtcIsoDateTimeFilter

from .. import forecast_categories
from ..models import (
    Account,
    Activity,
    Contact,
    ForecastCategory,
    Milestone,
    MilestoneCompletion,
    Opportunity,
    SalesProcess,
    Stage,
)


class AccountFilter(SyncFilterSet):
    owner = IdFilter(field_name="owner_id")

    class Meta:
        model = Account
        fields = ["owner", "industry", "region", "country", "external_id"]


class ContactFilter(SyncFilterSet):
    account = IdFilter(field_name="account_id")

    class Meta:
        model = Contact
        fields = ["account", "buying_role", "email", "external_id"]


class SalesProcessFilter(SyncFilterSet):
    class Meta:
        model = SalesProcess
        fields = ["is_default"]


class StageFilter(SyncFilterSet):
    process = IdFilter(field_name="process_id")

    class Meta:
        model = Stage
        fields = ["process"]


class MilestoneFilter(SyncFilterSet):
    stage = IdFilter(field_name="stage_id")
    process = IdFilter(field_name="stage__process_id")

    class Meta:
        model = Milestone
        fields = ["stage", "process", "evidence_required"]


class OpportunityFilter(SyncFilterSet):
    owner = IdFilter(field_name="owner_id")
    account = IdFilter(field_name="account_id")
    stage = IdFilter(field_name="stage_id")
    process = IdFilter(field_name="process_id")
    # The rep's choice as stored; ``effective_forecast_category`` is what the forecast counts.
    forecast_category = filters.ChoiceFilter(choices=ForecastCategory.choices)
    effective_forecast_category = filters.ChoiceFilter(
        choices=forecast_categories.EffectiveCategory.choices,
        method="filter_effective_category",
        label="What the forecast counts: the chosen category, else the stage's default; "
        "closed for won deals.",
    )
    close_after = filters.DateFilter(
        field_name="expected_close_on", lookup_expr="gte", label="Expected close on or after."
    )
    close_before = filters.DateFilter(
        field_name="expected_close_on", lookup_expr="lte", label="Expected close on or before."
    )
    amount_min = filters.NumberFilter(
        field_name="amount", lookup_expr="gte", max_digits=14, decimal_places=2
    )
    amount_max = filters.NumberFilter(
        field_name="amount", lookup_expr="lte", max_digits=14, decimal_places=2
    )

    class Meta:
        model = Opportunity
        fields = [
            "owner",
            "account",
            "status",
            "stage",
            "process",
            "forecast_category",
            "currency",
            "external_id",
        ]

    def filter_effective_category(self, queryset, name, value):
        expression = forecast_categories.effective_category_expression()
        return queryset.alias(effective_forecast_category=expression).filter(
            effective_forecast_category=value
        )


class MilestoneCompletionFilter(SyncFilterSet):
    opportunity = IdFilter(field_name="opportunity_id")
    milestone = IdFilter(field_name="milestone_id")

    class Meta:
        model = MilestoneCompletion
        fields = ["opportunity", "milestone", "action", "verification_state"]


class ActivityFilter(SyncFilterSet):
    owner = IdFilter(field_name="owner_id")
    account = IdFilter(field_name="account_id")
    opportunity = IdFilter(field_name="opportunity_id")
    occurred_after = UtcIsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = UtcIsoDateTimeFilter(field_name="occurred_at", lookup_expr="lte")

    class Meta:
        model = Activity
        fields = ["owner", "account", "opportunity", "kind", "outcome", "external_id"]
