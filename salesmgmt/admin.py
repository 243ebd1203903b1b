"""Admin for the organisation core; hierarchy changes go through the services."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Q
from django.template.response import TemplateResponse

from . import refresh, services, two_factor, webhooks
from .audit import audit_record
from .forms import ThrottledAdminAuthenticationForm
from .models import (
    ApiToken,
    AuditEvent,
    ExchangeRate,
    FailedTask,
    IdempotencyRecord,
    ImportJob,
    Period,
    Role,
    TOTPDevice,
    User,
    WebhookDelivery,
    WebhookSubscription,
)
from .visibility import may_change_privileges

# The admin's log-in shares the site log-in's throttle (salesmgmt.security).
admin.site.login_form = ThrottledAdminAuthenticationForm


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "role", "manager", "is_active")
    list_filter = ("role", "sales_role", "is_active", "is_org_unit", "region")
    search_fields = ("username", "email", "first_name", "last_name")
    list_select_related = ("manager",)
    raw_id_fields = ("manager",)
    # An office node is made by a users import (salesmgmt.services.org_unit_create), never here.
    readonly_fields = ("ancestor_path", "last_login", "date_joined", "is_org_unit")
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (
            "Sales organisation",
            {
                "fields": (
                    "role",
                    "manager",
                    "ancestor_path",
                    "title",
                    "sales_role",
                    "region",
                    "hire_date",
                    "external_id",
                    "is_org_unit",
                )
            },
        ),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("Sales organisation", {"fields": ("email", "role", "manager", "title", "hire_date")}),
    )

    # Admin rights follow the role (services.user_privileges_sync): never ticked by hand.
    derived_fields = ("is_staff", "is_superuser")

    def get_readonly_fields(self, request, obj=None):
        fields = (*super().get_readonly_fields(request, obj), *self.derived_fields)
        if not may_change_privileges(request.user, in_session=True):
            # Staff who are not administrators edit names and places, never rights.
            fields = (*fields, *(sorted(services.PRIVILEGE_FIELDS - set(fields))))
        return fields

    def save_model(self, request, obj, form, change):
        manager = obj.manager
        obj._role_before = (
            User.objects.filter(pk=obj.pk).values_list("role", flat=True).first()
            if change
            else Role.REP
        )
        if not change:
            obj.ancestor_path = manager.subtree_path if manager else "/"
        super().save_model(request, obj, form, change)
        if not change:
            return
        audit_record(
            action="user.changed_in_admin",
            actor=request.user,
            target=obj,
            details={"fields": form.changed_data},
            request=request,
        )
        if "manager" in form.changed_data:
            # Re-roots the whole subtree's paths (and refuses cycles).
            services.user_set_manager(user=obj, manager=manager, actor=request.user)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user = form.instance
        old_role = getattr(user, "_role_before", user.role)
        if old_role != user.role or set(form.changed_data) & services.PRIVILEGE_FIELDS:
            # After the groups are saved, so a demotion's clean-up is the last word.
            services.user_privileges_sync(
                user=user, old_role=old_role, actor=request.user, in_session=True
            )


@admin.register(Period)
class PeriodAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "start_on", "end_on")
    list_filter = ("kind",)


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ("currency", "rate_to_reporting", "effective_on")
    list_filter = ("currency",)

    # A rate moves every converted figure: say so on the one refresh path (salesmgmt.refresh).
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        refresh.changed(everything=True)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        refresh.changed(everything=True)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        refresh.changed(everything=True)


# --- integrations ---------------------------------------------------------------------------


class ReadOnlyAdmin(admin.ModelAdmin):
    """History, audit and computed records: visible to admins, never edited or deleted by hand.

    Every app's admin uses this one class for the tables its services alone write."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyLogAdmin(ReadOnlyAdmin):
    """Logs written by the system: read-only, but old entries may be deleted."""

    def has_delete_permission(self, request, obj=None):
        return super(ReadOnlyAdmin, self).has_delete_permission(request, obj)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Create (the key is shown once, on the next page) and revoke tokens; never delete them."""

    list_display = (
        "name",
        "user",
        "scope",
        "key_prefix",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("scope", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "user__username", "user__email", "key_prefix")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "user", "scope")
        return ("name", "user", "scope", "key_prefix", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("user", "scope", "key_prefix", "created_at", "last_used_at", "revoked_at")

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        token, key = services.api_token_create(user=obj.user, name=obj.name, scope=obj.scope)
        obj.pk, obj.key_prefix, obj.key_hash = token.pk, token.key_prefix, token.key_hash
        obj.created_at = token.created_at
        request._new_api_key = key

    def response_add(self, request, obj, post_url_continue=None):
        context = {
            **self.admin_site.each_context(request),
            "token": obj,
            "key": request._new_api_key,
            "title": "API token created",
        }
        response = TemplateResponse(request, "salesmgmt/admin_token_created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            services.api_token_revoke(token=token)
        self.message_user(request, f"Revoked {queryset.count()} token(s).", messages.SUCCESS)


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("url", "owner", "events", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url", "owner__username", "description")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "owner":
            # Only those who may own webhooks (salesmgmt.webhooks.may_own_webhooks).
            kwargs["queryset"] = User.objects.filter(
                Q(role__in=webhooks.WEBHOOK_OWNER_ROLES) | Q(is_superuser=True), is_active=True
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = {
            name: form.cleaned_data[name]
            for name in ("url", "events", "secret", "description", "is_active")
        }
        if change:
            webhooks.update_subscription(subscription=obj, **data)
        else:
            created = webhooks.subscribe(owner=form.cleaned_data["owner"], **data)
            obj.pk = created.pk


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyLogAdmin):
    list_display = (
        "event",
        "subscription",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
        "created_at",
    )
    list_filter = ("status", "event")
    list_select_related = ("subscription",)
    actions = ["send_again"]

    @admin.action(description="Send again (as a new delivery)")
    def send_again(self, request, queryset):
        queued = 0
        for delivery in queryset.select_related("subscription__owner"):
            if webhooks.may_own_webhooks(delivery.subscription.owner):
                webhooks.redeliver(delivery=delivery)
                queued += 1
        self.message_user(request, f"Queued {queued} delivery(ies).", messages.SUCCESS)


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyLogAdmin):
    list_display = (
        "id",
        "kind",
        "file_name",
        "created_by",
        "dry_run",
        "status",
        "rows_total",
        "rows_done",
        "created_at",
    )
    list_filter = ("kind", "status", "dry_run")
    list_select_related = ("created_by",)
    exclude = ("content",)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyLogAdmin):
    list_display = ("key", "user", "method", "path", "status_code", "created_at")
    list_select_related = ("user",)
    search_fields = ("key", "path")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "action", "actor", "target_type", "target_id", "ip")
    list_filter = ("action", "target_type")
    search_fields = ("action", "target_id", "actor__username")
    list_select_related = ("actor",)
    date_hierarchy = "created_at"


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(ReadOnlyAdmin):
    """Who has two-factor sign-in on; the secret is never shown. Reset removes a device."""

    list_display = ("user", "confirmed_at", "created_at")
    list_filter = (("confirmed_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__username", "user__email")
    list_select_related = ("user",)
    fields = ("user", "confirmed_at", "created_at", "updated_at")
    actions = ["reset"]

    @admin.action(description="Reset two-factor sign-in of the selected people")
    def reset(self, request, queryset):
        devices = list(queryset.select_related("user"))
        for device in devices:
            two_factor.reset(user=device.user, actor=request.user, request=request)
        self.message_user(request, f"Reset {len(devices)} device(s).", messages.SUCCESS)

    def get_actions(self, request):
        # ReadOnlyAdmin has no change permission, which would hide the action: allow superusers.
        actions = super().get_actions(request)
        if not request.user.is_superuser:
            actions.pop("reset", None)
        return actions


@admin.register(FailedTask)
class FailedTaskAdmin(ReadOnlyLogAdmin):
    """Background tasks that failed for good (salesmgmt.task_failures)."""

    list_display = ("failed_at", "task_name", "task_id", "attempts", "short_exception")
    list_filter = ("task_name",)
    search_fields = ("task_name", "task_id", "exception")
    date_hierarchy = "failed_at"

    @admin.display(description="Exception")
    def short_exception(self, obj: FailedTask) -> str:
        return obj.exception.splitlines()[0][:120] if obj.exception else ""
