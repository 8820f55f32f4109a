"""Routes of review and sign-off: ``api_urlpatterns`` under /api/v1/, ``urlpatterns`` for pages.

Included by approvals/urls.py, so the audit routes and these stay in separate files.
"""

from django.urls import path

from approvals import api, review_views

api_urlpatterns = [
    path("requests/<int:request_id>/recommend/", api.RecommendApi.as_view(), name="api-recommend"),
    path("requests/<int:request_id>/comments/", api.CommentsApi.as_view(), name="api-comments"),
    path("requests/<int:request_id>/approve/", api.ApproveApi.as_view(), name="api-approve"),
    path("requests/<int:request_id>/reject/", api.RejectApi.as_view(), name="api-reject"),
    path("requests/<int:request_id>/figures/", api.FiguresApi.as_view(), name="api-figures"),
    path("decisions/", api.DecisionsApi.as_view(), name="api-decisions"),
    path("decisions/<int:decision_id>/", api.DecisionDetailApi.as_view(), name="api-decision"),
    path("teams/<slug:slug>/policy/", api.PolicyApi.as_view(), name="api-team-policy"),
]

urlpatterns = [
    path("review/", review_views.review_queue, name="review-queue"),
    path(
        "requests/<int:request_id>/recommend/",
        review_views.request_recommend,
        name="request-recommend",
    ),
    path(
        "requests/<int:request_id>/comments/", review_views.request_comment, name="request-comment"
    ),
    path(
        "requests/<int:request_id>/rerun-with-changes/",
        review_views.request_rerun_ask,
        name="request-rerun-ask",
    ),
    path("requests/<int:request_id>/sign/", review_views.request_sign, name="request-sign"),
    path(
        "requests/<int:request_id>/compare/", review_views.request_compare, name="request-compare"
    ),
    path("decisions/", review_views.decision_list, name="decision-list"),
    path("decisions/<int:decision_id>/", review_views.decision_detail, name="decision-detail"),
    path("policies/", review_views.policy_list, name="policy-list"),
    path("teams/<slug:slug>/policy/", review_views.team_policy, name="team-policy"),
]
