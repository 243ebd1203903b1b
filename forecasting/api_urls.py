"""API routes of the forecasting app (mounted under /api/v1/)."""

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from . import api, api_analysis, api_products

router = SimpleRouter()
router.register("forecast-calls", api.CallViewSet, basename="forecast-call")
router.register("forecast-adjustments", api.AdjustmentViewSet, basename="forecast-adjustment")
router.register("forecast-rollups", api.RollupViewSet, basename="forecast-rollup")
router.register("forecast-periods", api.PeriodViewSet, basename="forecast-period")
router.register("forecast-kpis", api.KpiViewSet, basename="forecast-kpi")
router.register("forecast-snapshots", api.SnapshotViewSet, basename="forecast-snapshot")
router.register("forecast-flags", api.FlagViewSet, basename="forecast-flag")
router.register("forecast-probabilities", api.ProbabilityViewSet, basename="forecast-probability")

urlpatterns = [
    *router.urls,
    path("product-kpis/", api_products.ProductKpiView.as_view(), name="product-kpis"),
    path("forecast-waterfall/", api_analysis.WaterfallView.as_view(), name="forecast-waterfall"),
    # A sub-resource of the deal (accounts' route), answered here: accounts is a layer below.
    re_path(
        r"^opportunities/(?P<pk>[0-9]{1,18})/probability/$",
        api_analysis.DealProbabilityView.as_view(),
        name="opportunity-probability",
    ),
    path(
        "forecast-calibration/",
        api_analysis.CalibrationView.as_view(),
        name="forecast-calibration",
    ),
    path("forecast-projection/", api_analysis.ProjectionView.as_view(), name="forecast-projection"),
]
