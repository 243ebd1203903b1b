from django.apps import AppConfig


class CsvImportConfig(AppConfig):
    name = "csv_import"
    verbose_name = "CSV import"
