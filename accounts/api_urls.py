"""API routes of the accounts app (mounted under /api/v1/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import products, search, team, views

router = SimpleRouter()
router.register("accounts", views.AccountViewSet)
router.register("contacts", views.ContactViewSet)
router.register("processes", views.SalesProcessViewSet)
router.register("stages", views.StageViewSet)
router.register("milestones", views.MilestoneViewSet)
router.register("opportunities", views.OpportunityViewSet)
router.register("milestone-completions", views.MilestoneCompletionViewSet)
router.register("activities", views.ActivityViewSet)
router.register("products", products.ProductViewSet)
router.register(
    r"opportunities/(?P<deal_id>[0-9]{1,18})/line-items",
    products.LineItemViewSet,
    basename="opportunity-line-item",
)

router.register(
    r"opportunities/(?P<deal_id>[0-9]{1,18})/team",
    team.TeamMemberViewSet,
    basename="opportunity-team-member",
)

urlpatterns = [
    *router.urls,
    path("search/", search.SearchView.as_view(), name="api-search"),
]
