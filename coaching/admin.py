"""Admin for coaching's configuration: scorecard templates and criteria, the skill list, the
resource-request criteria and managers' weekly capacity. Records people make (reviews, debriefs,
plans, requests) are written on the pages and the API through coaching.services; here they are
read-only."""

from __future__ import annotations

from django.contrib import admin

from salesmgmt.admin import ReadOnlyAdmin

from . import services
from .models import (
    AccountReview,
    CallDebrief,
    DevelopmentPlan,
    ManagerCapacity,
    ResourcePolicy,
    ResourceRequest,
    ScorecardCriterion,
    ScorecardTemplate,
    SkillTag,
)


class CriterionInline(admin.TabularInline):
    model = ScorecardCriterion
    extra = 0
    fields = ["order", "key", "name", "area", "guidance"]


@admin.register(ScorecardTemplate)
class ScorecardTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "process", "is_default", "is_builtin"]
    inlines = [CriterionInline]


@admin.register(SkillTag)
class SkillTagAdmin(admin.ModelAdmin):
    list_display = ["name", "order", "is_active"]
    list_editable = ["order", "is_active"]


@admin.register(ResourcePolicy)
class ResourcePolicyAdmin(admin.ModelAdmin):
    list_display = ["kind", "min_amount", "min_stage_order", "min_qualification", "manager_hours"]


@admin.register(ManagerCapacity)
class ManagerCapacityAdmin(admin.ModelAdmin):
    """A manager's own weekly hours for joint calls and reviews (else the default setting)."""

    list_display = ["manager", "weekly_hours", "updated_at"]
    list_select_related = ["manager"]
    autocomplete_fields = ["manager"]

    def save_model(self, request, obj, form, change) -> None:
        saved = services.manager_capacity_set(
            actor=request.user, manager=obj.manager, weekly_hours=obj.weekly_hours
        )
        obj.pk = saved.pk


@admin.register(AccountReview)
class AccountReviewAdmin(ReadOnlyAdmin):
    list_display = ["account", "held_on", "template", "created_by"]
    list_select_related = ["account", "template", "created_by"]


@admin.register(CallDebrief)
class CallDebriefAdmin(ReadOnlyAdmin):
    list_display = ["rep", "manager", "held_on"]
    list_select_related = ["rep", "manager"]


@admin.register(DevelopmentPlan)
class DevelopmentPlanAdmin(ReadOnlyAdmin):
    list_display = ["title", "rep", "status", "created_at"]
    list_select_related = ["rep"]


@admin.register(ResourceRequest)
class ResourceRequestAdmin(ReadOnlyAdmin):
    list_display = ["opportunity", "kind", "status", "requested_by", "decided_by"]
    list_select_related = ["opportunity", "requested_by", "decided_by"]
