from django.urls import path

from . import views

app_name = "coaching"

urlpatterns = [
    path("", views.team_dashboard, name="team_dashboard"),
    path("executive/", views.executive_rollup, name="executive_rollup"),
    path(
        "executive/nodes/<int:person_id>/",
        views.rollup_node_children,
        name="rollup_node_children",
    ),
    path("ramp/", views.ramp, name="ramp"),
    path("reps/<int:pk>/", views.rep_coaching, name="rep_coaching"),
    path("reps/<int:pk>/ratings/", views.skill_rate, name="skill_rate"),
    path("reviews/", views.review_list, name="review_list"),
    path("reviews/new/", views.review_create, name="review_create"),
    path("reviews/<int:pk>/", views.review_detail, name="review_detail"),
    path("reviews/<int:pk>/notes/", views.review_notes, name="review_notes"),
    path("reviews/<int:pk>/actions/", views.action_item_add, name="action_item_add"),
    path(
        "reviews/<int:pk>/deals/<int:deal_id>/criteria/<int:criterion_id>/",
        views.score_save,
        name="score_save",
    ),
    path(
        "reviews/<int:pk>/deals/<int:deal_id>/competitors/",
        views.competitor_add,
        name="competitor_add",
    ),
    path("reviews/<int:pk>/deals/<int:deal_id>/proofs/", views.proof_add, name="proof_add"),
    path(
        "reviews/<int:pk>/deals/<int:deal_id>/negotiation/",
        views.negotiation_add,
        name="negotiation_add",
    ),
    path("scores/<int:pk>/validate/", views.score_validate, name="score_validate"),
    path("action-items/<int:pk>/done/", views.action_item_done, name="action_item_done"),
    path("debriefs/", views.debrief_list, name="debrief_list"),
    path("plans/", views.plan_list, name="plan_list"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/goals/", views.goal_add, name="goal_add"),
    path("plans/<int:pk>/evaluate/", views.plan_evaluate, name="plan_evaluate"),
    path("goals/<int:pk>/actions/", views.plan_action_add, name="plan_action_add"),
    path("plan-actions/<int:pk>/done/", views.plan_action_done, name="plan_action_done"),
    path("plans/<int:pk>/programme/", views.plan_link_programme, name="plan_link_programme"),
    path("onboarding/", views.onboarding, name="onboarding"),
    path("programmes/", views.programme_list, name="programme_list"),
    path("programmes/<int:pk>/", views.programme_detail, name="programme_detail"),
    path("programmes/<int:pk>/edit/", views.programme_edit, name="programme_edit"),
    path("programmes/<int:pk>/steps/", views.programme_step_add, name="programme_step_add"),
    path(
        "programmes/<int:pk>/steps/<int:step_id>/remove/",
        views.programme_step_remove,
        name="programme_step_remove",
    ),
    path("programmes/<int:pk>/enrol/", views.programme_enrol, name="programme_enrol"),
    path("enrolments/<int:pk>/", views.enrolment_detail, name="enrolment_detail"),
    path(
        "enrolments/<int:pk>/steps/",
        views.enrolment_step_complete,
        name="enrolment_step_complete",
    ),
    path("requests/", views.request_list, name="request_list"),
    path("requests/new/", views.request_create, name="request_create"),
    path("requests/<int:pk>/decide/", views.request_decide, name="request_decide"),
]
