"""The REST API: shared conventions (auth, pagination, concurrency, errors) and the router."""
