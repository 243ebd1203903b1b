"""API routes of the capture app (mounted under /api/v1/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("capture/items", api.CapturedItemViewSet, basename="captured-item")
router.register(
    "capture/calendars", api.CalendarSubscriptionViewSet, basename="calendar-subscription"
)

urlpatterns = [
    *router.urls,
    path("capture/settings/", api.CaptureSettingsView.as_view(), name="api-capture-settings"),
    path(
        "capture/calendars/upload/",
        api.CalendarUploadView.as_view(),
        name="api-capture-calendar-upload",
    ),
    path(
        "capture/settings/rotate/",
        api.CaptureAddressRotateView.as_view(),
        name="api-capture-settings-rotate",
    ),
]
