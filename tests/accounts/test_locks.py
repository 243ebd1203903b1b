"""Row locks of the accounts app lock only the rows they name."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts import locks
from tests.factories import OpportunityFactory


@pytest.mark.django_db
def test_lock_opportunity_locks_the_deal_row_and_not_its_process():
    deal = OpportunityFactory()
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        locked = locks.lock_opportunity(deal.pk)
    # The process comes with the deal (no second query) ...
    assert locked.process.pk == deal.process_id
    assert len(queries) == 1
    sql = queries[0]["sql"].upper()
    if connection.features.has_select_for_update_of:
        # ... but only the deal's own table is named in the lock.
        assert 'FOR UPDATE OF "ACCOUNTS_OPPORTUNITY"' in sql
        assert "ACCOUNTS_SALESPROCESS" not in sql.split("FOR UPDATE", 1)[1]
