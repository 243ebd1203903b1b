"""API routes of the first-run setup: the checklist, the company settings and the fiscal
periods generated from them (mounted under /api/v1/)."""

from django.urls import path

from . import company_views, setup_views

urlpatterns = [
    path("setup/", setup_views.SetupChecklistView.as_view(), name="setup-checklist"),
    path("setup/company/", company_views.CompanySettingsView.as_view(), name="setup-company"),
    path(
        "setup/company/periods/",
        company_views.CompanyPeriodsView.as_view(),
        name="setup-company-periods",
    ),
]
