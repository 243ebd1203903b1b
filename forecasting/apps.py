from django.apps import AppConfig


class ForecastingConfig(AppConfig):
    name = "forecasting"

    def ready(self) -> None:
        # The rollups and KPI rows on the one refresh path (salesmgmt.refresh).
        from . import aggregate_kinds

        aggregate_kinds.register()
