"""Pages of the CSV import, mounted at /imports/ (no namespace: the names predate the move)."""

from django.urls import path

from salesmgmt.models import ImportKind

from . import views

urlpatterns = [
    path("", views.imports, name="imports"),
    path("<int:pk>/", views.import_job, name="import_job"),
    path("<int:pk>/mapping/", views.import_mapping, name="import_mapping"),
    # One fixed path per kind (not a <kind> argument): an unknown kind is a plain 404.
    *(
        path(
            f"template/{kind}.csv",
            views.import_template,
            {"kind": kind},
            name=f"import_template_{kind}",
        )
        for kind in ImportKind.values
    ),
]
