"""Admin: audit trails and aggregates are read-only here; writes go through the services."""

from __future__ import annotations

from django.contrib import admin

from salesmgmt.admin import ReadOnlyAdmin

from .models import (
    AccuracyEntry,
    CallOfRecord,
    ForecastCall,
    ForecastRollup,
    InspectionFlag,
    KpiSnapshot,
    RecomputeRun,
)


@admin.register(ForecastCall)
class ForecastCallAdmin(ReadOnlyAdmin):
    list_display = [
        "person",
        "period",
        "layer",
        "commit_amount",
        "best_case_amount",
        "submitted_by",
        "submitted_at",
    ]
    list_filter = ["layer", "period"]
    list_select_related = ["person", "period", "submitted_by"]


@admin.register(CallOfRecord)
class CallOfRecordAdmin(ReadOnlyAdmin):
    list_display = ["person", "period", "locked_on", "commit_amount", "manager_commit_amount"]
    list_select_related = ["person", "period"]


@admin.register(ForecastRollup)
class ForecastRollupAdmin(ReadOnlyAdmin):
    list_display = [
        "person",
        "period",
        "scope",
        "cumulative_commit_amount",
        "weighted_amount",
        "p50_amount",
        "computed_at",
    ]
    list_filter = ["scope", "period"]
    list_select_related = ["person", "period"]


@admin.register(KpiSnapshot)
class KpiSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["person", "period", "scope", "won_amount", "win_rate_value", "attainment"]
    list_filter = ["scope", "period"]
    list_select_related = ["person", "period"]


@admin.register(InspectionFlag)
class InspectionFlagAdmin(ReadOnlyAdmin):
    list_display = ["opportunity", "owner", "kind", "detail"]
    list_filter = ["kind"]
    list_select_related = ["opportunity", "owner"]


@admin.register(AccuracyEntry)
class AccuracyEntryAdmin(ReadOnlyAdmin):
    list_display = ["person", "period", "source", "as_of", "forecast_amount", "actual_amount"]
    list_filter = ["source", "period"]
    list_select_related = ["person", "period"]


@admin.register(RecomputeRun)
class RecomputeRunAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "status", "phase", "progress", "finished_at"]
