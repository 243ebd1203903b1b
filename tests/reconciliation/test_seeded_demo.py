"""A freshly seeded demo, after its own recompute, reconciles with its raw records."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from reconciliation import verify_figures
from tests.reconciliation.refresh import refresh_everything


@pytest.mark.django_db(transaction=False)
def test_seeded_demo_has_no_differences_after_its_recompute():
    # Given a small demo (as tests/demo_data/test_seed_demo.py seeds it), refreshed
    call_command("seed_demo", stdout=io.StringIO(), reps=16, opportunities=200)
    refresh_everything()
    # When the stored figures are rebuilt from the raw records
    differences = verify_figures()
    # Then every figure agrees
    assert [str(d) for d in differences] == []
