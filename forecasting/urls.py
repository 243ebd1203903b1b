from django.urls import path

from . import views

app_name = "forecasting"

urlpatterns = [
    path("", views.forecast, name="forecast"),
    path("call/", views.call_submit, name="call_submit"),
    path("people/<int:person_id>/adjust/", views.call_adjust, name="call_adjust"),
    path("calibration/", views.calibration, name="calibration"),
    path("waterfall/", views.waterfall, name="waterfall"),
    path("kpis/", views.kpis, name="kpis"),
    path("flags/", views.flags, name="flags"),
    path("accuracy/", views.accuracy, name="accuracy"),
]
