"""API routes of the core (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("users", views.UserViewSet)
router.register("tokens", views.ApiTokenViewSet)
router.register("webhooks", views.WebhookSubscriptionViewSet)
router.register("webhook-deliveries", views.WebhookDeliveryViewSet)

urlpatterns = router.urls
