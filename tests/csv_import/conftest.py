from tests.api_fixtures import _api_isolation, api_client_for, world  # noqa: F401
