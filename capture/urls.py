from django.urls import path

from . import views

app_name = "capture"

urlpatterns = [
    path("unfiled/", views.unfiled, name="unfiled"),
    path("settings/", views.capture_settings, name="settings"),
    path("calendars/subscribe/", views.calendar_subscribe, name="calendar_subscribe"),
    path("calendars/<int:pk>/remove/", views.calendar_unsubscribe, name="calendar_unsubscribe"),
    path("calendars/upload/", views.calendar_upload, name="calendar_upload"),
    path("items/<int:pk>/file/", views.item_file, name="item_file"),
    path("items/<int:pk>/delete/", views.item_delete, name="item_delete"),
]
