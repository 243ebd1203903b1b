from django.urls import path

from . import views

app_name = "territories"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("rebalance/apply/", views.rebalance_apply, name="rebalance_apply"),
    path("assignments/", views.assignment_preview, name="assignment_preview"),
    path("assignments/apply/", views.assignment_apply, name="assignment_apply"),
    path("quotas/", views.quota_plan, name="quota_plan"),
    path("quotas/allocate/", views.allocation, name="allocation"),
    path("quotas/<int:period_id>/people/<int:user_id>/", views.quota_edit, name="quota_edit"),
]
