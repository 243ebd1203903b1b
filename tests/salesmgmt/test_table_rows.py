"""Row templates (salesmgmt.table_rows) give what the Django template they replace gave."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.template import engines
from django.utils import timezone

from salesmgmt.table_rows import row_templates

# The same values, written once per engine.
DJANGO = (
    "{{ row.call.commit_amount|floatformat:'0g'|default:'—' }}|{{ row.at|date:'M j, Y H:i' }}|"
    "{{ row.at|date:'c' }}|{{ row.notes|linebreaksbr }}|{{ row.name }}|"
    "{{ row.amount|floatformat:'2g' }}|{% url 'accounts:opportunity_detail' row.pk %}"
)
JINJA = (
    "{{ row.call.commit_amount|floatformat('0g') or '—' }}|{{ row.at|date('M j, Y H:i') }}|"
    "{{ row.at|date('c') }}|{{ row.notes|linebreaksbr }}|{{ row.name }}|"
    "{{ row.amount|floatformat('2g') }}|{{ url('accounts:opportunity_detail', row.pk) }}"
)


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_row_templates_render_values_as_django_templates_do(zone):
    row = {
        "call": None,  # a row without a call: its amount is missing, not an error
        "at": dt.datetime(2026, 3, 1, 2, 30, tzinfo=dt.UTC),  # another day in New York
        "notes": "first <line>\nsecond & last",
        "name": 'O\'Brien "Co" <b>',
        "amount": Decimal("1234567.5"),
        "pk": 42,
    }
    with timezone.override(zone):
        django = engines["django"].from_string(DJANGO).render({"row": row})
        jinja = row_templates().from_string(JINJA).render({"row": row})

    # Jinja2 escapes quotes as numeric references of its own (&#39; &#34;): the same text
    django_fields, jinja_fields = django.split("|"), jinja.split("|")
    assert jinja_fields[:4] == django_fields[:4]
    assert jinja_fields[4] == "O&#39;Brien &#34;Co&#34; &lt;b&gt;"
    assert jinja_fields[5:] == django_fields[5:]
    assert jinja_fields[0] == "—"
    assert jinja_fields[3] == "first &lt;line&gt;<br>second &amp; last"
