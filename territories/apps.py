from django.apps import AppConfig


class TerritoriesConfig(AppConfig):
    name = "territories"

    def ready(self) -> None:
        from salesmgmt.org_changes import on_org_changed

        from .services import attainment_mark_changed

        # A manager move or a new exchange rate changes every period's attainment.
        on_org_changed(attainment_mark_changed)
