"""API route of the setup checklist (mounted under /api/v1/)."""

from django.urls import path

from . import setup_views

urlpatterns = [path("setup/", setup_views.SetupChecklistView.as_view(), name="setup-checklist")]
