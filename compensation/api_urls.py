"""API routes of the compensation app (mounted under /api/v1/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("compensation/statements", api.StatementViewSet, basename="compensation-statement")
router.register("compensation/disputes", api.DisputeViewSet, basename="compensation-dispute")
router.register("compensation/plans", api.PlanViewSet, basename="compensation-plan")
router.register("compensation/deals", api.DealCreditViewSet, basename="compensation-deal")

urlpatterns = [
    *router.urls,
    path("compensation/what-if/", api.WhatIfView.as_view(), name="compensation-whatif"),
    path(
        "compensation/payroll/<int:period_id>/",
        api.PayrollExportView.as_view(),
        name="compensation-payroll",
    ),
]
