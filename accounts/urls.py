from django.urls import path

from . import views
from .views import processes, products, search, team

app_name = "accounts"

urlpatterns = [
    path("my/", views.rep_home, name="rep_home"),
    # The header's search box: accounts, contacts, deals and activities (accounts.selectors.search).
    path("search/", search.global_search, name="search"),
    path("opportunities/", views.opportunity_list, name="opportunity_list"),
    path("opportunities/<int:pk>/", views.opportunity_detail, name="opportunity_detail"),
    path("opportunities/<int:pk>/edit/", views.opportunity_edit, name="opportunity_edit"),
    path(
        "opportunities/<int:pk>/close-won/",
        views.opportunity_close_won,
        name="opportunity_close_won",
    ),
    path(
        "opportunities/<int:pk>/close-lost/",
        views.opportunity_close_lost,
        name="opportunity_close_lost",
    ),
    path(
        "opportunities/<int:pk>/milestones/<int:milestone_id>/complete/",
        views.milestone_complete,
        name="milestone_complete",
    ),
    path(
        "opportunities/<int:pk>/milestones/<int:milestone_id>/undo/",
        views.milestone_undo,
        name="milestone_undo",
    ),
    # The deal team (who may: who may reassign the deal).
    path("opportunities/<int:pk>/team/", team.team_member_add, name="team_member_add"),
    path(
        "opportunities/<int:pk>/team/<int:member_id>/edit/",
        team.team_member_edit,
        name="team_member_edit",
    ),
    path(
        "opportunities/<int:pk>/team/<int:member_id>/remove/",
        team.team_member_remove,
        name="team_member_remove",
    ),
    path("completions/<int:pk>/verify/", views.completion_verify, name="completion_verify"),
    path("completions/<int:pk>/reject/", views.completion_reject, name="completion_reject"),
    path("activities/log/", views.activity_log, name="activity_log"),
    path("accounts/", views.account_list, name="account_list"),
    path("accounts/new/", views.account_create, name="account_create"),
    path("accounts/<int:pk>/", views.account_detail, name="account_detail"),
    path("accounts/<int:pk>/edit/", views.account_edit, name="account_edit"),
    # The product catalogue (everyone reads; administrators edit) and deals' line items.
    path("products/", products.product_list, name="product_list"),
    path("products/<int:product_id>/", products.product_detail, name="product_detail"),
    path("products/<int:product_id>/archive/", products.product_archive, name="product_archive"),
    path("opportunities/<int:pk>/line-items/", products.line_item_add, name="line_item_add"),
    path("line-items/<int:line_item_id>/edit/", products.line_item_edit, name="line_item_edit"),
    path(
        "line-items/<int:line_item_id>/remove/",
        products.line_item_remove,
        name="line_item_remove",
    ),
    # First-run setup (administrators): sales processes, stages, exit milestones.
    path("setup/processes/", processes.process_list, name="process_list"),
    path("setup/processes/<int:process_id>/", processes.process_detail, name="process_detail"),
    path("setup/processes/<int:process_id>/stages/", processes.stage_add, name="stage_add"),
    path("setup/stages/<int:stage_id>/edit/", processes.stage_edit, name="stage_edit"),
    path("setup/stages/<int:stage_id>/move/", processes.stage_move, name="stage_move"),
    path("setup/stages/<int:stage_id>/delete/", processes.stage_delete, name="stage_delete"),
    path("setup/stages/<int:stage_id>/milestones/", processes.milestone_add, name="milestone_add"),
    path(
        "setup/milestones/<int:milestone_id>/edit/",
        processes.milestone_edit,
        name="milestone_edit",
    ),
    path(
        "setup/milestones/<int:milestone_id>/move/",
        processes.milestone_move,
        name="milestone_move",
    ),
    path(
        "setup/milestones/<int:milestone_id>/delete/",
        processes.milestone_delete,
        name="milestone_delete",
    ),
]
