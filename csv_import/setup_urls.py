"""The setup checklist pages, mounted at /setup/ (no namespace, like the import pages)."""

from django.urls import path

from . import company_views, setup_views

urlpatterns = [
    path("", setup_views.setup_checklist_page, name="setup_checklist"),
    path("periods/", setup_views.setup_periods, name="setup_periods"),
    path("company/", company_views.setup_company, name="setup_company"),
    path("company/periods/", company_views.setup_company_periods, name="setup_company_periods"),
]
