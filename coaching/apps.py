from django.apps import AppConfig


class CoachingConfig(AppConfig):
    name = "coaching"

    def ready(self) -> None:
        # The aggregate this app keeps fresh through the one refresh path (salesmgmt.refresh).
        from .services import compliance

        compliance.register()
