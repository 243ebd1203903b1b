"""API routes: /api/v1/ resources of every app, the OpenAPI schema and its docs."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from .exceptions import not_found

urlpatterns = [
    path("v1/", include("salesmgmt.api.v1_urls")),
    path("v1/", include("accounts.api_urls")),
    path("v1/", include("territories.api_urls")),
    path("v1/", include("forecasting.api_urls")),
    path("v1/", include("compensation.api_urls")),
    path("v1/", include("coaching.api_urls")),
    path("v1/", include("capture.api_urls")),
    path("v1/", include("planning.api_urls")),
    path("v1/", include("csv_import.api_urls")),
    path("v1/", include("csv_import.setup_api_urls")),
    path("v1/", include("notifications.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # Anything else under /api/ (e.g. /api/v1/accounts/abc/) is a JSON 404, not a page.
    re_path(r"^", not_found),
]
