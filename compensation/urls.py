from django.urls import path

from . import views

app_name = "compensation"

urlpatterns = [
    path("", views.my_statements, name="my_statements"),
    path("statements/<int:pk>/", views.statement_detail, name="statement_detail"),
    path("statements/<int:pk>/approve/", views.statement_approve, name="statement_approve"),
    path("statements/<int:pk>/adjust/", views.statement_adjust, name="statement_adjust"),
    path("lines/<int:pk>/dispute/", views.line_dispute, name="line_dispute"),
    path("team/", views.team_statements, name="team_statements"),
    path("runs/compute/", views.run_compute, name="run_compute"),
    path("runs/<int:pk>/process/", views.run_process, name="run_process"),
    path("disputes/", views.dispute_list, name="dispute_list"),
    path("disputes/<int:pk>/resolve/", views.dispute_resolve, name="dispute_resolve"),
    path("deals/<int:pk>/", views.deal_credit, name="deal_credit"),
    path("deals/<int:pk>/splits/", views.deal_credit_splits, name="deal_credit_splits"),
    path("deals/<int:pk>/cancel/", views.deal_cancel, name="deal_cancel"),
    path("what-if/", views.whatif, name="whatif"),
    path("plans/", views.plan_list, name="plan_list"),
    path("payroll/", views.payroll, name="payroll"),
    path("payroll/<int:period_id>/csv/", views.payroll_download, name="payroll_download"),
]
