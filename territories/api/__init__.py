"""API of the territories app: territories, rules, assignments (preview/apply), rebalancing,
quotas with their audit log, and attainment.

Reads go through ``territories.selectors`` (the same visibility as the pages: records outside
it are 404), writes through ``territories.services``; the base classes in
``salesmgmt.api.viewsets`` add ETag/If-Match, Idempotency-Key, CSV export and JSON errors.
Serializers parse and format only.
"""
