"""API routes of the territories app (mounted under /api/v1/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import assignments, quotas, territories

router = SimpleRouter()
router.register("territories", territories.TerritoryViewSet)
router.register("territory-rules", territories.AssignmentRuleViewSet)
router.register("territory-assignments", assignments.AssignmentViewSet)
router.register("quotas", quotas.QuotaViewSet)

urlpatterns = [
    *router.urls,
    path("attainment/", quotas.AttainmentView.as_view(), name="attainment"),
]
