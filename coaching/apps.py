from django.apps import AppConfig


class CoachingConfig(AppConfig):
    name = "coaching"

    def ready(self) -> None:
        # The aggregate this app keeps fresh through the one refresh path (salesmgmt.refresh).
        from salesmgmt import webhooks

        from .services import compliance

        compliance.register()
        # New hires join their role's default onboarding programme (coaching.events).
        webhooks.register_listener(listener_path="coaching.events.on_event")
