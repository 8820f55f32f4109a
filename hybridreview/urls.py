from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from approvals import urls as approvals_urls
from hybridreview import api, health, pages
from hybridreview.accounts import account_pages, invitation_pages, password_pages
from hybridreview.accounts import pages as team_pages
from hybridreview.accounts.views import (
    TeamInvitationApi,
    TeamInvitationsApi,
    TeamMemberApi,
    TeamMembersApi,
    TokenCreateApi,
    TokenRevokeApi,
)
from jobs import urls as jobs_urls

api_v1 = [
    path("auth/token/", TokenCreateApi.as_view(), name="api-token-create"),
    path("auth/token/revoke/", TokenRevokeApi.as_view(), name="api-token-revoke"),
    path("teams/<slug:slug>/members/", TeamMembersApi.as_view(), name="api-team-members"),
    path(
        "teams/<slug:slug>/members/<str:username>/",
        TeamMemberApi.as_view(),
        name="api-team-member",
    ),
    path(
        "teams/<slug:slug>/invitations/",
        TeamInvitationsApi.as_view(),
        name="api-team-invitations",
    ),
    path(
        "teams/<slug:slug>/invitations/<int:pk>/",
        TeamInvitationApi.as_view(),
        name="api-team-invitation",
    ),
    *approvals_urls.api_urlpatterns,
    *jobs_urls.api_urlpatterns,
]

urlpatterns = [
    path("", pages.home, name="home"),
    path("favicon.ico", pages.favicon, name="favicon"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path(
        "accounts/login/",
        password_pages.SignIn.as_view(),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", account_pages.account_page, name="account"),
    path("accounts/password/", password_pages.PasswordChange.as_view(), name="password_change"),
    path(
        "accounts/password/reset/",
        password_pages.PasswordReset.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password/reset/sent/",
        password_pages.PasswordResetDone.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        password_pages.PasswordResetConfirm.as_view(),
        name="password_reset_confirm",
    ),
    path("teams/", team_pages.team_list, name="team-list"),
    path("teams/<slug:slug>/members/", team_pages.team_members, name="team-members"),
    path("invitations/accept/", invitation_pages.invitation_page, name="invitation-accept"),
    path("invitations/<str:token>/", invitation_pages.invitation_start, name="invitation-open"),
    path("admin/", admin.site.urls),
    path("", include(approvals_urls)),
    path("", include(jobs_urls)),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Last: any other path under /api/ is a JSON 404, in DEBUG too.
    re_path(r"^api/", api.unknown_endpoint, name=api.UNKNOWN_ENDPOINT),
]

handler404 = "hybridreview.api.not_found"
handler500 = "hybridreview.api.server_error"
