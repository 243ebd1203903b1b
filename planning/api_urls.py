"""API routes of the planning app (mounted under /api/v1/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api, api_feedback

router = SimpleRouter()
router.register("planning/segments", api.SegmentViewSet, basename="planning-segment")
router.register("planning/scenarios", api.ScenarioViewSet, basename="planning-scenario")
router.register("planning/hires", api.PlannedHireViewSet, basename="planning-hire")
router.register("planning/roles", api.RoleCapacityViewSet, basename="planning-role")

urlpatterns = [
    *router.urls,
    path("planning/plan/", api.PlanView.as_view(), name="planning-plan"),
    path("planning/capacity/", api.CapacityPlanView.as_view(), name="planning-capacity"),
    path("planning/feedback/", api_feedback.FeedbackView.as_view(), name="planning-feedback"),
    path(
        "planning/plan-vs-actual/", api.PlanVsActualView.as_view(), name="planning-plan-vs-actual"
    ),
]
