"""Pages of the CSV import, mounted at /imports/ (no namespace: the names predate the move)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.imports, name="imports"),
    path("<int:pk>/", views.import_job, name="import_job"),
]
