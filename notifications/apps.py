from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications, reminders and digests"

    def ready(self) -> None:
        from salesmgmt.webhooks import register_listener

        # Every event the services emit (the webhooks' path) may notify someone.
        register_listener(listener_path="notifications.events.on_event")
