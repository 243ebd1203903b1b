"""Admin for territories and quotas. Writes that keep history go through the services (owner
changes, quota edits with a reason); histories, runs, snapshots and the audit log are
read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from salesmgmt.admin import ReadOnlyAdmin
from salesmgmt.forms import MoneyField

from . import services
from .models import (
    AccountTerritoryAssignment,
    AssignmentRule,
    AssignmentRun,
    CompanyTarget,
    PlanningSnapshot,
    Quota,
    QuotaChange,
    RampSchedule,
    Territory,
    TerritoryBalanceSnapshot,
    TerritoryOverlay,
    TerritoryOwnership,
)
from .services.territories import TERRITORY_FIELDS


class OverlayInline(admin.TabularInline):
    model = TerritoryOverlay
    extra = 0
    raw_id_fields = ("user",)


class OwnershipInline(admin.TabularInline):
    model = TerritoryOwnership
    extra = 0
    fk_name = "territory"
    readonly_fields = ("owner", "effective_from", "effective_to", "changed_by")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ("name", "level", "parent", "owner", "effective_from", "effective_to")
    list_filter = ("level",)
    search_fields = ("name",)
    list_select_related = ("parent", "owner")
    raw_id_fields = ("owner", "parent")
    inlines = [OverlayInline, OwnershipInline]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            created = services.territory_create(
                actor=request.user,
                name=data["name"],
                owner=data["owner"],
                level=data["level"],
                parent=data.get("parent"),
                effective_from=data.get("effective_from"),
                description=data.get("description", ""),
            )
            obj.pk = created.pk
            obj.refresh_from_db()
            return
        changes = {name: data[name] for name in form.changed_data if name in TERRITORY_FIELDS}
        if changes:
            services.territory_update(actor=request.user, territory=obj, **changes)
        if "owner" in form.changed_data:
            # Keeps the ownership history and moves the territory's accounts.
            services.territory_change_owner(actor=request.user, territory=obj, owner=data["owner"])


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "territory", "priority", "is_active")
    list_filter = ("is_active", "territory")
    search_fields = ("name",)
    list_select_related = ("territory",)
    raw_id_fields = ("named_accounts",)
    ordering = ("priority", "id")


@admin.register(AccountTerritoryAssignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ("account", "territory", "effective_from", "effective_to", "source", "run")
    list_filter = ("source", "territory")
    list_select_related = ("account", "territory", "run")
    search_fields = ("account__name",)


@admin.register(AssignmentRun)
class AssignmentRunAdmin(ReadOnlyAdmin):
    list_display = ("kind", "applied_by", "effective_on", "moved_count", "created_at")
    list_filter = ("kind",)
    list_select_related = ("applied_by",)


@admin.register(TerritoryBalanceSnapshot)
class BalanceSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("territory", "week_start", "balance_index", "is_flagged", "account_count")
    list_filter = ("is_flagged", "week_start")
    list_select_related = ("territory",)


@admin.register(PlanningSnapshot)
class PlanningSnapshotAdmin(ReadOnlyAdmin):
    """The territory page's precomputed reports; written only by the refresh task."""

    list_display = (
        "created_at", "generation", "effective_on", "band", "gap_count", "overlap_count",
        "duration_ms", "requested_by",
    )  # fmt: skip
    list_select_related = ("requested_by",)


@admin.register(RampSchedule)
class RampScheduleAdmin(admin.ModelAdmin):
    list_display = ("name", "monthly_percentages", "is_default")


@admin.register(CompanyTarget)
class CompanyTargetAdmin(ReadOnlyAdmin):
    """Set and allocate targets on the allocation page, so every quota change is audited."""

    list_display = ("period", "amount", "method", "allocated_by", "allocated_at")
    list_select_related = ("period", "allocated_by")


class QuotaAdminForm(forms.ModelForm):
    amount = MoneyField(required=False, help_text="Only for an explicit quota.")
    reason = forms.CharField(max_length=255, help_text="Saved in the quota's audit log.")

    class Meta:
        model = Quota
        fields = (
            "user", "period", "basis", "territory_quota", "assignment_share",
            "manager_adjustment", "amount",
        )  # fmt: skip

    def clean(self) -> dict:
        data = super().clean()
        if data.get("basis") == Quota.Basis.EXPLICIT and data.get("amount") is None:
            self.add_error("amount", "Give the explicit amount.")
        return data


@admin.register(Quota)
class QuotaAdmin(admin.ModelAdmin):
    form = QuotaAdminForm
    list_display = ("user", "period", "basis", "amount", "territory", "version")
    list_filter = ("period", "basis")
    list_select_related = ("user", "period", "territory")
    raw_id_fields = ("user",)
    readonly_fields = ("territory", "ramp_factor", "version")

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        changes = {
            name: data[name]
            for name in form.changed_data
            if name in ("basis", "territory_quota", "assignment_share", "manager_adjustment")
        }
        if data.get("basis") == Quota.Basis.EXPLICIT:
            changes = {"amount": data["amount"]}
        saved = services.quota_update(
            actor=request.user,
            person=data["user"],
            period=data["period"],
            reason=data["reason"],
            source=QuotaChange.Source.ADMIN,
            **changes,
        )
        obj.pk = saved.pk
        obj.refresh_from_db()


@admin.register(QuotaChange)
class QuotaChangeAdmin(ReadOnlyAdmin):
    list_display = ("quota", "field", "old_value", "new_value", "changed_by", "changed_at")
    list_filter = ("field", "source")
    list_select_related = ("quota", "quota__user", "quota__period", "changed_by")
