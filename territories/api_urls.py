"""API routes of the territories app (mounted under /api/v1/)."""

urlpatterns: list = []
