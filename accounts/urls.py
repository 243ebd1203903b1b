from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("my/", views.rep_home, name="rep_home"),
]
