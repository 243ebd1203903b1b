"""API routes of the CSV import (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("imports", api.ImportJobViewSet)

urlpatterns = router.urls
