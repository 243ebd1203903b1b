"""The products import: the catalogue, upserted by external_id, then by name.

A row whose external_id (or, without one, whose name) matches a product updates it; any
other row adds a product. Writes go through ``accounts.services`` like every import, so only
administrators and integrations (who keep the catalogue) may run it.
"""

from __future__ import annotations

from accounts import services
from accounts.models import Product
from salesmgmt.errors import PermissionDeniedError

from .apply import Importer, _first_by, _present
from .parsing import quote

FIELDS = ("name", "family", "list_price", "currency", "external_id")


class ProductImporter(Importer):
    """One product per row; a name repeated in the file is reported, not applied twice."""

    def resolve(self, records):
        if not services.may_manage_products(self.actor):
            raise PermissionDeniedError("Only administrators and integrations import products.")
        ext_ids = {r["external_id"] for r in records if r.get("external_id")}
        names = {r["name"] for r in records if r.get("name")}
        self.by_ext = _first_by(Product.objects.all(), "external_id", ext_ids)
        self.by_name = _first_by(Product.objects.all(), "name", names)
        seen: set[str] = set()
        for record in records:
            key = (record.get("name") or "").casefold()
            if key in seen:
                name = quote(record["name"])
                self.error(record, "name", f"Repeats an earlier row's product {name}.")
            seen.add(key)

    def existing_for(self, record: dict) -> Product | None:
        found = self.by_ext.get(record.get("external_id") or "")
        if found is None:
            found = self.by_name.get(record["name"])
        return found  # type: ignore[return-value]

    def apply_row(self, record):
        values = {k: ("" if v is None else v) for k, v in _present(record, *FIELDS).items()}
        if values.get("list_price") == "":
            values.pop("list_price")
        existing = self.existing_for(record)
        if existing is not None:
            if not values.get("external_id"):
                values.pop("external_id", None)  # a file without ids keeps the stored one
            services.product_update(actor=self.actor, product=existing, **values)
            return False
        services.product_create(actor=self.actor, **values)
        return True
