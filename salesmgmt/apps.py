from django.apps import AppConfig


class SalesmgmtConfig(AppConfig):
    name = "salesmgmt"
    verbose_name = "Sales organisation"

    def ready(self) -> None:
        # Registers the OpenAPI extensions for the API's authentication and fields.
        from .api import schema  # noqa: F401
