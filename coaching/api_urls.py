"""API routes of the coaching app (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from . import api, api_onboarding

router = SimpleRouter()
router.register("account-reviews", api.AccountReviewViewSet)
router.register("debriefs", api.CallDebriefViewSet)
router.register("development-plans", api.DevelopmentPlanViewSet)
router.register("resource-requests", api.ResourceRequestViewSet)
router.register("programmes", api_onboarding.ProgrammeViewSet)
router.register("enrolments", api_onboarding.EnrolmentViewSet)

urlpatterns = router.urls
