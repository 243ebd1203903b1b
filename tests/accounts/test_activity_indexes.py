"""Activity keeps one index per lookup column: the composite ones, not single-column copies."""

import pytest
from django.db import connection

from accounts.models import Activity


@pytest.mark.django_db
def test_activity_has_no_single_column_index_a_composite_index_already_leads_with():
    # given the indexes the migrations built on this database
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Activity._meta.db_table)
    indexes = [c["columns"] for c in constraints.values() if c["index"] and not c["primary_key"]]

    # then each of owner, account and opportunity leads a composite index and has no other
    for column in ("owner_id", "account_id", "opportunity_id"):
        assert [column] not in indexes
        assert any(len(cols) > 1 and cols[0] == column for cols in indexes)
    # and milestone, which leads no composite index, keeps its own
    assert ["milestone_id"] in indexes
