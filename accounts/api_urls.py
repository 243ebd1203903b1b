"""API routes of the accounts app (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from .api import views

router = SimpleRouter()
router.register("accounts", views.AccountViewSet)
router.register("contacts", views.ContactViewSet)
router.register("processes", views.SalesProcessViewSet)
router.register("stages", views.StageViewSet)
router.register("milestones", views.MilestoneViewSet)
router.register("opportunities", views.OpportunityViewSet)
router.register("milestone-completions", views.MilestoneCompletionViewSet)
router.register("activities", views.ActivityViewSet)

urlpatterns = router.urls
