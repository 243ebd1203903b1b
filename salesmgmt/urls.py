from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/verify/", views.two_factor_verify, name="two_factor_verify"),
    path("login/two-factor-setup/", views.two_factor_login_enrol, name="two_factor_login_enrol"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz/", views.healthz, name="healthz"),
    path("settings/api-tokens/", views.api_tokens, name="api_tokens"),
    path("settings/api-tokens/<int:pk>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("settings/two-factor/", views.two_factor_settings, name="two_factor_settings"),
    path("settings/two-factor/setup/", views.two_factor_enrol, name="two_factor_enrol"),
    path("people/invitations/", views.people_invitations, name="people_invitations"),
    path("people/<int:user_id>/invite/", views.person_invite, name="person_invite"),
    path("people/invite-pending/", views.people_invite_pending, name="people_invite_pending"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("imports/", include("csv_import.urls")),
    path("setup/", include("csv_import.setup_urls")),
    path("", include("accounts.urls")),
    path("territories/", include("territories.urls")),
    path("forecast/", include("forecasting.urls")),
    path("compensation/", include("compensation.urls")),
    path("coaching/", include("coaching.urls")),
    path("notifications/", include("notifications.urls")),
    path("capture/", include("capture.urls")),
    path("planning/", include("planning.urls")),
    path("api/", include("salesmgmt.api.urls")),
    path("admin/login/", views.admin_login),
    path("admin/", admin.site.urls),
]
