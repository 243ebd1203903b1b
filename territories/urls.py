from django.urls import path

from . import views

app_name = "territories"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("rebalance/apply/", views.rebalance_apply, name="rebalance_apply"),
    path("planning/recompute/", views.planning_recompute, name="planning_recompute"),
    path("new/", views.territory_form, name="territory_create"),
    path("<int:pk>/edit/", views.territory_form, name="territory_edit"),
    path("rules/new/", views.rule_form, name="rule_create"),
    path("rules/<int:pk>/edit/", views.rule_form, name="rule_edit"),
    path("assignments/", views.assignment_preview, name="assignment_preview"),
    path("assignments/apply/", views.assignment_apply, name="assignment_apply"),
    path("quotas/", views.quota_plan, name="quota_plan"),
    path("quotas/allocate/", views.allocation, name="allocation"),
    path("quotas/<int:period_id>/people/<int:user_id>/", views.quota_edit, name="quota_edit"),
]
