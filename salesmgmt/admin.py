"""Admin for the organisation core; hierarchy changes go through the services."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from . import services
from .models import ExchangeRate, Period, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "role", "manager", "is_active")
    list_filter = ("role", "sales_role", "is_active", "region")
    search_fields = ("username", "email", "first_name", "last_name")
    list_select_related = ("manager",)
    raw_id_fields = ("manager",)
    readonly_fields = ("ancestor_path", "last_login", "date_joined")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (
            "Sales organisation",
            {
                "fields": (
                    "role", "manager", "ancestor_path", "title", "sales_role", "region",
                    "hire_date", "external_id",
                )
            },
        ),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("Sales organisation", {"fields": ("email", "role", "manager", "title", "hire_date")}),
    )

    def save_model(self, request, obj, form, change):
        manager = obj.manager
        if not change:
            obj.ancestor_path = manager.subtree_path if manager else "/"
            super().save_model(request, obj, form, change)
            return
        super().save_model(request, obj, form, change)
        if "manager" in form.changed_data:
            # Re-roots the whole subtree's paths (and refuses cycles).
            services.set_manager(user=obj, manager=manager)


@admin.register(Period)
class PeriodAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "start_on", "end_on")
    list_filter = ("kind",)


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ("currency", "rate_to_reporting", "effective_on")
    list_filter = ("currency",)
