"""The rows of the pages' long tables, rendered by Jinja2 (``templates/jinja2/``).

A Django template spends a node render, a context lookup and an auto-escape per variable, tag
and filter; Jinja2 compiles a template to Python, several times cheaper per row. Issue 21's
load: the rep home's 25 rows (two forms each, ~80 nodes a row) and the forecast tree's 100
(nine amounts and a form each) in Jinja2 took /my/ from 19-25 to 16.5-18.6 ms of CPU and
/forecast/ from ~90 to ~57 ms. The page stays a Django template; ``{% table_rows "<name>" %}``
(salesmgmt.templatetags.table_rows) renders the rows with the page's context, in the markup
the Django template gave.

What a row template has besides Jinja2's own: ``url(name, *args)`` ({% url %}), ``whole(amount)``
(``floatformat:"0g"``, salesmgmt.whole_amounts: most of a forecast row's time), the filters
``floatformat``, ``linebreaksbr`` and ``date`` (Django's, with a datetime shown in the current
time zone as a Django template shows it), ``csrf_token`` (the page's token, as
``{% csrf_token %}`` gives it) and a missing attribute of a missing value that is undefined
rather than an error (``row.call.commit_amount`` when a row has no call), as in a Django
template.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jinja2
from django.conf import settings
from django.template.backends.jinja2 import Jinja2
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import floatformat as floatformat_filter
from django.template.defaultfilters import linebreaksbr as linebreaksbr_filter
from django.urls import reverse
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]

from .whole_amounts import WholeAmounts


def url(name: str, *args: Any) -> str:
    return reverse(name, args=args or None)


def _defined(value: Any) -> Any:
    """None for an undefined value: what a Django template's filter is given for one."""
    return None if isinstance(value, jinja2.Undefined) else value


def date(value: Any, arg: str | None = None) -> str:
    return date_filter(template_localtime(_defined(value)), arg)


def floatformat(value: Any, arg: str | int = -1) -> str:
    return floatformat_filter(_defined(value), arg)


def whole_amounts() -> Callable[[Any], str]:
    """``floatformat:"0g"`` of an amount (salesmgmt.whole_amounts), for one table's rows."""
    whole = WholeAmounts()
    return lambda amount: whole(_defined(amount))


def linebreaksbr(value: Any) -> str:
    return linebreaksbr_filter(_defined(value), autoescape=True)


def environment(**options: Any) -> jinja2.Environment:
    options.pop("autoescape", None)  # always on, as in a Django template
    env = jinja2.Environment(autoescape=True, **options)
    env.globals["url"] = url
    env.filters["floatformat"] = floatformat
    env.filters["date"] = date
    env.filters["linebreaksbr"] = linebreaksbr
    return env


@functools.cache
def row_templates() -> Jinja2:
    """The Jinja2 engine of ``templates/jinja2`` (built once per process, on first use)."""
    return Jinja2(
        {
            "NAME": "table_rows",
            "DIRS": [settings.BASE_DIR / "templates" / "jinja2"],
            "APP_DIRS": False,
            "OPTIONS": {
                "environment": "salesmgmt.table_rows.environment",
                "undefined": jinja2.ChainableUndefined,
            },
        }
    )
