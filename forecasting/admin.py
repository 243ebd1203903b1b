"""Admin: audit trails and aggregates are read-only here; writes go through the services."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Q

from salesmgmt.admin import ReadOnlyAdmin

from .models import (
    AccuracyEntry,
    CallOfRecord,
    ForecastCall,
    ForecastRollup,
    InspectionFlag,
    KpiSnapshot,
    RecomputeRun,
    RecomputeShard,
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


class RecomputeShardInline(admin.TabularInline):
    """Each shard of the run: which worker has or had it, since when, for how long."""

    model = RecomputeShard
    fields = [
        "position", "name", "state", "worker", "attempts", "started_at", "heartbeat_at",
        "finished_at", "seconds", "rows",
    ]  # fmt: skip
    readonly_fields = fields
    ordering = ["position"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RecomputeRun)
class RecomputeRunAdmin(ReadOnlyAdmin):
    """The recompute page: each run's progress, and its shards' progress below it."""

    list_display = ["created_at", "status", "phase", "progress", "shards_done", "finished_at"]
    inlines = [RecomputeShardInline]

    def get_queryset(self, request):
        done = Count("shards", filter=Q(shards__state=RecomputeShard.State.DONE))
        return super().get_queryset(request).annotate(done=done, total=Count("shards"))

    @admin.display(description="shards done")
    def shards_done(self, run: RecomputeRun) -> str:
        return f"{run.done} / {run.total}"  # type: ignore[attr-defined]
