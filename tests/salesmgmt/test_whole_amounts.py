"""WholeAmounts (the executive rollup's rows, the Jinja2 table rows) shows amounts as
``floatformat:"0g"`` renders them, in every language's grouping."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template.defaultfilters import floatformat
from django.utils import translation

from salesmgmt.whole_amounts import WholeAmounts

AMOUNTS = [
    "0", "0.00", "0.4", "0.5", "-0.4", "-0.5", "-0.51", "1.5", "2.5", "999.5", "1000",
    "1234567.49", "1234567.50", "-1234567.50", "1E+3", "99999999999999.99", "-12.345",
]  # fmt: skip


@pytest.mark.parametrize("language", ["en", "de", "fr", "de-ch", "hi"])
def test_whole_amounts_are_floatformat_0g(language):
    with translation.override(language):
        whole = WholeAmounts()
        for text in AMOUNTS:
            amount = Decimal(text)
            assert whole(amount) == floatformat(amount, "0g"), (language, text)
        assert whole(None) == floatformat(None, "0g") == ""
