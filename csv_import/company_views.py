"""The company settings page and API (first-run setup), and generating the fiscal periods
for a range of fiscal years on the company's calendar.

Pages: administrators. API: everyone signed in reads the settings; administrators and
integrations change them (``salesmgmt.services.may_configure_company``). The writes are
``salesmgmt.services.company_settings_update`` and ``periods_generate``. It sits with the
setup checklist because it suggests the fiscal years the deals touch (it reads accounts).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from salesmgmt import fiscal_calendar, selectors, services
from salesmgmt.company_settings import SESSION_TIME_ZONE
from salesmgmt.forms import CompanySettingsForm, PeriodsGenerateForm
from salesmgmt.models import CompanySettings, Period, WeekStart, validate_time_zone
from salesmgmt.page_actions import call_service, call_service_or_flash

from .selectors.setup import data_fiscal_years
from .setup_views import admin_only

FIELDS = ["name", "reporting_currency", "fiscal_year_start_month", "time_zone", "week_start"]


def suggested_fiscal_years(company: CompanySettings) -> tuple[int, int]:
    """The fiscal years the deals touch; without deals, this fiscal year and the next."""
    start_month = company.fiscal_year_start_month
    found = data_fiscal_years(start_month=start_month)
    if found is not None:
        return found
    now = fiscal_calendar.fiscal_year_of(timezone.localdate(), start_month=start_month)
    return now, now + 1


def _page(request: HttpRequest, form: CompanySettingsForm, status: int = 200) -> HttpResponse:
    company = selectors.company_settings_get()
    first, last = suggested_fiscal_years(company)
    context = {
        "company": company,
        "is_saved": not company._state.adding,
        "form": form,
        "periods_form": PeriodsGenerateForm(initial={"first_year": first, "last_year": last}),
        "years": selectors.fiscal_year_summary(),
        "current_fiscal_year": fiscal_calendar.fiscal_year_of(
            timezone.localdate(), start_month=company.fiscal_year_start_month
        ),
    }
    return render(request, "csv_import/setup_company.html", context, status=status)


@admin_only
def setup_company(request: HttpRequest) -> HttpResponse:
    """The company settings form; saving it marks the checklist line done."""
    if request.method != "POST":
        company = selectors.company_settings_get()
        return _page(request, CompanySettingsForm(initial={f: getattr(company, f) for f in FIELDS}))
    form = CompanySettingsForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    saved, status = call_service(
        form,
        lambda: services.company_settings_update(actor=request.user, **form.cleaned_data),
    )
    if saved is None:
        return _page(request, form, status=status)
    request.session[SESSION_TIME_ZONE] = saved.time_zone  # this session's pages at once
    messages.success(request, f"Saved the settings of {saved.name}.")
    return redirect("setup_company")


@admin_only
@require_POST
def setup_company_periods(request: HttpRequest) -> HttpResponse:
    """Generate the fiscal years of the form (with quarters and months); existing ones kept."""
    form = PeriodsGenerateForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("setup_company")
    first, last = form.cleaned_data["first_year"], form.cleaned_data["last_year"]
    ensured, _ = call_service_or_flash(
        request,
        lambda: services.periods_generate(actor=request.user, first_year=first, last_year=last),
    )
    if ensured is not None:
        made = len(ensured.created)
        messages.success(
            request, f"Fiscal periods FY{first} to FY{last} are in place ({made} new)."
        )
    return redirect("setup_company")


# --- API ------------------------------------------------------------------------------------


class ConfiguresCompany(BasePermission):
    """Everyone signed in reads the company settings; administrators and integrations change
    them: anyone else gets 403 before the body is read."""

    message = "Only an administrator can change the company settings."

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or services.may_configure_company(request.user)


class CompanySettingsSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, allow_blank=True)
    reporting_currency = serializers.CharField(
        min_length=3, max_length=3, help_text="ISO 4217 code; every total is converted into it."
    )
    fiscal_year_start_month = serializers.IntegerField(
        min_value=1,
        max_value=12,
        help_text="The month the fiscal year starts in (1 January to 12 December). Fiscal "
        "years are named by the calendar year they end in. Fixed once fiscal periods exist "
        "on another calendar.",
    )
    time_zone = serializers.CharField(
        max_length=64,
        validators=[validate_time_zone],
        help_text="An IANA name, e.g. Europe/Berlin.",
    )
    week_start = serializers.ChoiceField(choices=WeekStart.choices)
    current_fiscal_year = serializers.SerializerMethodField(
        help_text="The fiscal year containing today, e.g. FY2026."
    )
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)

    def get_current_fiscal_year(self, company: CompanySettings) -> str:
        start_month = company.fiscal_year_start_month
        return f"FY{fiscal_calendar.fiscal_year_of(timezone.localdate(), start_month=start_month)}"

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if instance._state.adding:
            data["updated_at"] = None  # the defaults: nobody has saved the settings yet
        return data


class PeriodsGenerateSerializer(serializers.Serializer):
    first_year = serializers.IntegerField(min_value=1900, max_value=2200)
    last_year = serializers.IntegerField(min_value=1900, max_value=2200)


class FiscalYearSerializer(serializers.Serializer):
    name = serializers.CharField()
    start_on = serializers.DateField()
    end_on = serializers.DateField()


class PeriodsGeneratedSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="How many periods were new.")
    fiscal_years = FiscalYearSerializer(many=True)


class CompanySettingsView(APIView):
    """The company settings: name, reporting currency, fiscal year start month, time zone and
    week start. Everyone signed in reads them; administrators and integrations change them."""

    permission_classes = [*api_settings.DEFAULT_PERMISSION_CLASSES, ConfiguresCompany]

    @extend_schema(responses=CompanySettingsSerializer)
    def get(self, request):
        return Response(CompanySettingsSerializer(selectors.company_settings_get()).data)

    def _save(self, request, *, partial: bool) -> Response:
        serializer = CompanySettingsSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        saved = services.company_settings_update(actor=request.user, **serializer.validated_data)
        return Response(CompanySettingsSerializer(saved).data)

    @extend_schema(request=CompanySettingsSerializer, responses=CompanySettingsSerializer)
    def put(self, request):
        """Replace every setting (400 with field messages on bad values)."""
        return self._save(request, partial=False)

    @extend_schema(request=CompanySettingsSerializer, responses=CompanySettingsSerializer)
    def patch(self, request):
        """Change some settings (400 with field messages on bad values)."""
        return self._save(request, partial=True)


class CompanyPeriodsView(APIView):
    """Generate the fiscal years ``first_year`` to ``last_year`` (named by the calendar year
    they end in) with their quarters and months on the company's calendar; existing periods
    are kept, a clash with periods of another calendar is refused (400)."""

    permission_classes = [*api_settings.DEFAULT_PERMISSION_CLASSES, ConfiguresCompany]

    @extend_schema(request=PeriodsGenerateSerializer, responses=PeriodsGeneratedSerializer)
    def post(self, request):
        serializer = PeriodsGenerateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ensured = services.periods_generate(actor=request.user, **serializer.validated_data)
        body = {
            "created": len(ensured.created),
            "fiscal_years": [p for p in ensured.periods if p.kind == Period.Kind.YEAR],
        }
        return Response(PeriodsGeneratedSerializer(body).data)
