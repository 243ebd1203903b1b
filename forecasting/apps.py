from django.apps import AppConfig


class ForecastingConfig(AppConfig):
    name = "forecasting"

    def ready(self) -> None:
        # Connect the recompute receivers (see forecasting/signals.py for why signals).
        from . import signals

        signals.connect_quota_signals()
