from tests.integration.conftest import (  # noqa: F401
    celery_worker_process,
    celery_worker_session,
    wait_for_worker,
)
