from django.apps import AppConfig


class TerritoriesConfig(AppConfig):
    name = "territories"

    def ready(self) -> None:
        # The aggregates this app keeps fresh through the one refresh path (salesmgmt.refresh).
        from .services import attainment, planning

        attainment.register()
        planning.register()
