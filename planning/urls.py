from django.urls import path

from . import views, views_feedback

app_name = "planning"

urlpatterns = [
    path("", views.plan, name="plan"),
    path("scenarios/", views.scenario_create, name="scenario_create"),
    path("scenarios/<int:pk>/delete/", views.scenario_delete, name="scenario_delete"),
    path("segments/", views.segment_create, name="segment_create"),
    path("segments/<int:pk>/", views.segment_edit, name="segment_edit"),
    path("segments/<int:pk>/delete/", views.segment_delete, name="segment_delete"),
    path("roles/", views.role_capacity, name="roles"),
    path("coverage/", views.coverage_set, name="coverage_set"),
    path("hires/", views.planned_hire_create, name="planned_hire_create"),
    path("hires/<int:pk>/delete/", views.planned_hire_delete, name="planned_hire_delete"),
    path("feedback/", views_feedback.feedback, name="feedback"),
    path("hires/<int:pk>/hire/", views.planned_hire_hire, name="planned_hire_hire"),
]
