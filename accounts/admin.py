"""Admin for accounts and deals. Account and deal edits go through the services, so their
checks apply and history is kept; audit tables (milestone completions, change log) are
read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction

from salesmgmt.admin import ReadOnlyAdmin
from salesmgmt.errors import ApplicationError
from salesmgmt.page_actions import add_service_errors
from salesmgmt.visibility import may_reassign

from . import services, tasks
from .domains import normalize_domain
from .models import (
    Account,
    Activity,
    Contact,
    Milestone,
    MilestoneCompletion,
    Opportunity,
    OpportunityChange,
    OpportunityTeamMember,
    SalesProcess,
    Stage,
)


class OwnerCheckedForm(forms.ModelForm):
    """Shows a refused owner on the form; the service checks it again when saving."""

    actor = None  # the person editing, set per request by ``OwnerCheckedAdmin.get_form``

    def clean_owner(self):
        owner = self.cleaned_data["owner"]
        current = self.instance.owner if self.instance.owner_id else None
        if current is not None and owner.pk == current.pk:
            return owner
        try:
            services.ensure_assignable_owner(self.actor, owner, current_owner=current)
        except ValidationError as error:
            mine = getattr(error, "error_dict", {}).get("owner")
            raise ValidationError(mine or error.messages) from None
        except ApplicationError as error:
            raise ValidationError(error.message) from None
        return owner


class OwnerCheckedAdmin(admin.ModelAdmin):
    """Records with an owner: reassigned only as salesmgmt.visibility.may_reassign allows."""

    form = OwnerCheckedForm

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def get_readonly_fields(self, request, obj=None):
        return _owner_read_only(request, obj, super().get_readonly_fields(request, obj))


def _owner_read_only(request, obj, fields) -> tuple:
    """The owner is not offered to staff who may not reassign this record (the service
    refuses them anyway)."""
    if obj is not None and not may_reassign(request.user, obj.owner):
        return (*fields, "owner")
    return tuple(fields)


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


class AccountAdminForm(OwnerCheckedForm):
    class Meta:
        model = Account
        fields = "__all__"  # noqa: DJ007 - the admin edits every field

    def clean_domain(self) -> str:
        # Before the model's check, as the services do: a pasted website becomes its domain.
        return normalize_domain(self.cleaned_data.get("domain"))


@admin.register(Account)
class AccountAdmin(OwnerCheckedAdmin):
    form = AccountAdminForm
    list_display = ("name", "industry", "region", "country", "owner", "annual_revenue")
    list_filter = ("industry", "region")
    search_fields = ("name", "external_id")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    inlines = [ContactInline]

    def save_model(self, request, obj, form, change):
        # Through the services, so the one reassignment check (accounts.services) applies here.
        data = form.cleaned_data
        if not change:
            fields = {name: data[name] for name in services.ACCOUNT_FIELDS if name in data}
            created = services.account_create(actor=request.user, **fields)
            obj.pk = created.pk
            obj.refresh_from_db()
            return
        editable = services.ACCOUNT_FIELDS
        changes = {name: data[name] for name in form.changed_data if name in editable}
        if changes:
            services.account_update(actor=request.user, account=obj, **changes)
            obj.refresh_from_db()


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("first_name", "last_name", "title", "account", "buying_role")
    list_filter = ("buying_role",)
    search_fields = ("first_name", "last_name", "email")
    list_select_related = ("account",)
    raw_id_fields = ("account",)


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ("name", "process", "order", "default_forecast_category")
    list_filter = ("process",)
    inlines = [MilestoneInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Exit criteria changed: re-derive the stage of the process's open deals off-request.
        process_id = form.instance.process_id
        transaction.on_commit(lambda: tasks.refresh_process_stages.delay(process_id))


class StageInline(admin.TabularInline):
    model = Stage
    extra = 0


@admin.register(SalesProcess)
class SalesProcessAdmin(admin.ModelAdmin):
    list_display = ("name", "requires_verification", "is_default")
    inlines = [StageInline]


@admin.register(Milestone)
class MilestoneAdmin(admin.ModelAdmin):
    list_display = ("name", "stage", "evidence_required", "order")
    list_filter = ("stage__process", "evidence_required")
    list_select_related = ("stage",)


class TeamMemberInline(admin.TabularInline):
    model = OpportunityTeamMember
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Opportunity)
class OpportunityAdmin(OwnerCheckedAdmin):
    list_display = (
        "name",
        "account",
        "owner",
        "amount",
        "currency",
        "expected_close_on",
        "stage",
        "status",
        "forecast_category",
    )
    list_filter = ("status", "forecast_category", "process")
    search_fields = ("name", "account__name", "external_id")
    list_select_related = ("account", "owner", "stage")
    raw_id_fields = ("account", "owner")
    readonly_fields = ("stage", "stage_entered_at", "status", "closed_on", "version")
    inlines = [TeamMemberInline]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            created = services.opportunity_create(
                actor=request.user,
                account=data["account"],
                owner=data["owner"],
                process=data["process"],
                name=data["name"],
                amount=data["amount"],
                currency=data["currency"],
                expected_close_on=data["expected_close_on"],
                forecast_category=data["forecast_category"],
                next_step=data.get("next_step", ""),
            )
            obj.pk = created.pk
            obj.refresh_from_db()
            return
        changes = {
            name: data[name] for name in form.changed_data if name in services.EDITABLE_FIELDS
        }
        if changes:
            services.opportunity_update(actor=request.user, opportunity=obj, **changes)


@admin.register(MilestoneCompletion)
class MilestoneCompletionAdmin(ReadOnlyAdmin):
    list_display = (
        "opportunity",
        "milestone",
        "action",
        "completed_by",
        "completed_at",
        "verification_state",
    )
    list_filter = ("action", "verification_state")
    list_select_related = ("opportunity", "milestone", "completed_by")


@admin.register(OpportunityChange)
class OpportunityChangeAdmin(ReadOnlyAdmin):
    list_display = ("opportunity", "field", "old_value", "new_value", "changed_by", "changed_at")
    list_filter = ("field",)
    list_select_related = ("opportunity", "changed_by")


class ActivityForm(forms.ModelForm):
    """Shows refused links (owner, account, deal, milestone) on the form; the service checks
    them again when saving."""

    actor = None  # the person editing, set per request by ``ActivityAdmin.get_form``

    def clean(self):
        data = super().clean()
        if self.errors or "owner" not in data:
            return data
        try:
            services.check_activity_links(
                actor=self.actor,
                owner=data["owner"],
                account=data.get("account"),
                opportunity=data.get("opportunity"),
                milestone=data.get("milestone"),
            )
        except ValidationError as error:
            add_service_errors(self, error)
        return data


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    """Writes through the services, which keep the activity's copy of its deal's owner."""

    form = ActivityForm
    # How it was captured (and who took part) is set by capture, shown but never edited here.
    readonly_fields = ("source", "direction")
    exclude = ("participants",)
    list_display = ("kind", "owner", "account", "opportunity", "occurred_at", "outcome")
    list_filter = ("kind", "outcome")
    list_select_related = ("owner", "account", "opportunity")
    raw_id_fields = ("owner", "account", "opportunity", "milestone")
    date_hierarchy = "occurred_at"

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            fields = {name: data[name] for name in services.ACTIVITY_FIELDS if name in data}
            obj.pk = services.activity_log(actor=request.user, **fields).pk
            obj.refresh_from_db()
            return
        editable = services.ACTIVITY_FIELDS
        changes = {name: data[name] for name in form.changed_data if name in editable}
        if changes:
            services.activity_update(actor=request.user, activity=obj, **changes)
