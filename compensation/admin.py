"""Admin: plans are edited here; every audited record is written through the services.

Plans, components and assignments are configuration (validated by ``full_clean``, which
normalizes component terms). Credit splits, cancellations, adjustments, runs and approvals go
through ``compensation.services``; statements, lines and disputes are read-only here.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from salesmgmt.admin import ReadOnlyAdmin
from salesmgmt.errors import ApplicationError
from salesmgmt.models import User

from . import services
from .models import (
    CreditSplit,
    DealCancellation,
    Dispute,
    PayoutRun,
    Plan,
    PlanAssignment,
    PlanComponent,
    Statement,
    StatementAdjustment,
    StatementLine,
)
from .tasks import run_payouts


class PlanComponentInline(admin.StackedInline):
    model = PlanComponent
    extra = 0
    fields = [
        "kind", "name", "parameters", "clawback_days", "effective_from", "effective_to", "order",
    ]  # fmt: skip


class PlanAssignmentInline(admin.TabularInline):
    model = PlanAssignment
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "manager_overlay_credit", "updated_at"]
    search_fields = ["name"]
    inlines = [PlanComponentInline, PlanAssignmentInline]


@admin.register(PlanComponent)
class PlanComponentAdmin(admin.ModelAdmin):
    list_display = ["name", "plan", "kind", "effective_from", "effective_to", "clawback_days"]
    list_filter = ["kind", "plan"]
    list_select_related = ["plan"]


@admin.register(PlanAssignment)
class PlanAssignmentAdmin(admin.ModelAdmin):
    list_display = ["plan", "user", "role", "effective_from", "effective_to"]
    list_filter = ["plan", "role"]
    list_select_related = ["plan", "user"]
    raw_id_fields = ["user"]


# --- credit and cancellations (through the services) -----------------------------------------


class ServiceWriteAdmin(admin.ModelAdmin):
    """Adding a row calls a service; a refusal is shown and the add form comes back."""

    def write(self, request: HttpRequest, obj, form) -> Model:
        raise NotImplementedError

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        try:
            obj.pk = self.write(request, obj, form).pk
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)

    def save_related(self, request, form, formsets, change) -> None:
        if form.instance.pk:
            super().save_related(request, form, formsets, change)

    def log_addition(self, request, obj, message):
        if obj.pk is None:
            return None
        # log the row the service saved (the form's instance was never completed)
        return super().log_addition(request, type(obj).objects.get(pk=obj.pk), message)

    def response_add(self, request, obj, post_url_continue=None) -> HttpResponse:
        if obj.pk is None:
            return HttpResponseRedirect(request.path)
        return super().response_add(request, type(obj).objects.get(pk=obj.pk), post_url_continue)


class CreditSplitForm(forms.ModelForm):
    shares = forms.CharField(
        help_text="Every share of the deal, e.g. “alice:60, bob:40” (usernames; sum 100). "
        "Replaces the deal's current splits. Leave empty to credit the owner 100%."
    )

    class Meta:
        model = CreditSplit
        fields = ["opportunity"]

    def _post_clean(self) -> None:
        # The rows are built and validated by credit_splits_set, not from this one instance.
        self.instance.opportunity = self.cleaned_data.get("opportunity")

    def clean_shares(self) -> list[tuple[User, Decimal]]:
        pairs = []
        for chunk in filter(None, (c.strip() for c in self.cleaned_data["shares"].split(","))):
            username, _, percent = chunk.partition(":")
            user = User.objects.filter(username=username.strip()).first()
            if user is None:
                raise ValidationError(f"No person with username “{username.strip()}”.")
            try:
                pairs.append((user, Decimal(percent.strip())))
            except InvalidOperation:
                raise ValidationError(f"“{percent}” is not a percentage.") from None
        return pairs


@admin.register(CreditSplit)
class CreditSplitAdmin(ServiceWriteAdmin):
    list_display = ["opportunity", "user", "percent", "updated_at"]
    list_select_related = ["opportunity", "user"]
    raw_id_fields = ["opportunity"]
    form = CreditSplitForm

    def write(self, request, obj: CreditSplit, form) -> Model:
        rows = services.credit_splits_set(
            actor=request.user, opportunity=obj.opportunity, splits=form.cleaned_data["shares"]
        )
        return rows[0]  # the admin logs the addition against one saved row


@admin.register(DealCancellation)
class DealCancellationAdmin(ServiceWriteAdmin):
    list_display = ["opportunity", "cancelled_on", "reason", "recorded_by"]
    list_select_related = ["opportunity", "recorded_by"]
    raw_id_fields = ["opportunity"]
    fields = ["opportunity", "cancelled_on", "reason"]

    def write(self, request, obj: DealCancellation, form) -> Model:
        return services.deal_cancellation_record(
            actor=request.user,
            opportunity=obj.opportunity,
            cancelled_on=obj.cancelled_on,
            reason=obj.reason,
        )


# --- runs, statements, adjustments, disputes -------------------------------------------------


@admin.register(PayoutRun)
class PayoutRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "period", "status", "computed_at", "processed_at", "processed_by"]
    list_filter = ["status"]
    list_select_related = ["period", "processed_by"]
    actions = ["recompute", "process"]

    @admin.action(description="Recompute the period's draft run (queued)")
    def recompute(self, request: HttpRequest, queryset: QuerySet[PayoutRun]) -> None:
        for period_id in sorted(set(queryset.values_list("period_id", flat=True))):
            run_payouts.delay(period_id)
        self.message_user(request, "Recompute queued.")

    @admin.action(description="Process (freeze) the selected draft runs")
    def process(self, request: HttpRequest, queryset: QuerySet[PayoutRun]) -> None:
        for run in queryset.order_by("pk"):
            try:
                services.payout_run_process(run=run, actor=request.user)
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)


class StatementLineInline(admin.TabularInline):
    model = StatementLine
    extra = 0
    can_delete = False
    fields = ["position", "kind", "component", "opportunity", "amount", "explanation"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Statement)
class StatementAdmin(ReadOnlyAdmin):
    list_display = ["id", "rep", "run", "status", "total_amount", "attainment"]
    list_filter = ["status"]
    list_select_related = ["rep", "run__period"]
    inlines = [StatementLineInline]
    actions = ["approve"]

    @admin.action(description="Approve and lock the selected statements")
    def approve(self, request: HttpRequest, queryset: QuerySet[Statement]) -> None:
        for statement in queryset.order_by("pk"):
            try:
                services.statement_approve(actor=request.user, statement=statement)
            except ApplicationError as error:
                self.message_user(request, f"{statement}: {error.message}", messages.ERROR)


@admin.register(StatementAdjustment)
class StatementAdjustmentAdmin(ServiceWriteAdmin):
    list_display = ["statement", "amount", "reason", "created_by", "created_at"]
    list_select_related = ["statement__rep", "statement__run__period", "created_by"]
    raw_id_fields = ["statement"]
    fields = ["statement", "amount", "reason"]

    def write(self, request, obj: StatementAdjustment, form) -> Model:
        return services.statement_adjustment_add(
            actor=request.user, statement=obj.statement, amount=obj.amount, reason=obj.reason
        )


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ["id", "line", "raised_by", "status", "resolved_by", "created_at"]
    list_filter = ["status"]
    list_select_related = ["line", "raised_by", "resolved_by"]
