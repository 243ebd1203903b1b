from django.apps import AppConfig


class SalesmgmtConfig(AppConfig):
    name = "salesmgmt"
    verbose_name = "Sales organisation"

    def ready(self) -> None:
        from celery.signals import task_failure
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        # Registers the OpenAPI extensions for the API's authentication and fields.
        from .api import schema  # noqa: F401
        from .audit import record_login, record_login_failed
        from .company_settings import remember_time_zone
        from .task_failures import record_task_failure

        # Log-ins (good and bad) go to the audit log.
        user_logged_in.connect(record_login, dispatch_uid="salesmgmt.audit.login")
        # The session's pages run in the company time zone (salesmgmt.company_settings).
        user_logged_in.connect(remember_time_zone, dispatch_uid="salesmgmt.company.time_zone")
        user_login_failed.connect(record_login_failed, dispatch_uid="salesmgmt.audit.login_failed")
        # A task that failed for good (permanent error or retries used up) is recorded.
        task_failure.connect(record_task_failure, dispatch_uid="salesmgmt.task_failures")
