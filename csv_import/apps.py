from django.apps import AppConfig


class CsvImportConfig(AppConfig):
    name = "csv_import"
    verbose_name = "CSV import"

    def ready(self) -> None:
        # The products importer builds on apply's Importer in a module of its own; registering
        # it here (not by an import in apply.py) keeps the two modules free of an import cycle.
        from salesmgmt.models import ImportKind

        from . import apply
        from .product_import import ProductImporter

        apply.IMPORTERS[ImportKind.PRODUCTS] = ProductImporter
