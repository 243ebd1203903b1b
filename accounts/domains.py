"""An account's mail domain: the one normalisation and check, for pages, API and imports.

People paste a website (``https://www.Acme.com/about``) as often as a domain; both mean
``acme.com``, the part captured mail is matched on (capture.selectors.account_for_domain).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# A DNS name of labels (letters, digits, inner hyphens) ending in an alphabetic top level.
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")


def normalize_domain(value: object) -> str:
    """``value`` as a bare lower-case domain: scheme, ``www.``, port, path and a leading ``@``
    dropped ("https://www.Acme.com/" → "acme.com"); not checked (``validate_domain``)."""
    text = str(value or "").strip().lower()
    text = SCHEME.sub("", text).lstrip("@")
    text = re.split(r"[/?#]", text, maxsplit=1)[0]
    text = text.rsplit(":", 1)[0] if re.search(r":\d*$", text) else text
    text = text.rstrip(".")
    return text.removeprefix("www.")


def validate_domain(value: str) -> None:
    """A field error quoting ``value`` unless it is a bare domain (blank is allowed)."""
    if value and not DOMAIN.match(value):
        raise ValidationError(
            "“%(value)s” is not a domain (e.g. acme.com).", code="invalid", params={"value": value}
        )
