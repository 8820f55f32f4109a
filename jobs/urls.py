"""Routes of the jobs app: ``api_urlpatterns`` under /api/v1/, ``urlpatterns`` for pages."""

from django.urls import path

from jobs import api, api_budget, campaign_api, views, views_budget

api_urlpatterns = [
    path("requests/", api.RequestsApi.as_view(), name="api-requests"),
    path("requests/batch/", api.RequestsBatchApi.as_view(), name="api-requests-batch"),
    path("requests/<int:request_id>/", api.RequestDetailApi.as_view(), name="api-request"),
    path(
        "requests/<int:request_id>/cancel/",
        api.RequestCancelApi.as_view(),
        name="api-request-cancel",
    ),
    path(
        "requests/<int:request_id>/rerun/", api.RequestRerunApi.as_view(), name="api-request-rerun"
    ),
    path("solve/", api.SolveApi.as_view(), name="api-solve"),
    path("schemas/", api.SchemasApi.as_view(), name="api-schemas"),
    path("campaigns/", campaign_api.CampaignsApi.as_view(), name="api-campaigns"),
    path(
        "campaigns/<int:campaign_id>/",
        campaign_api.CampaignDetailApi.as_view(),
        name="api-campaign",
    ),
    path(
        "campaigns/<int:campaign_id>/dispatch/",
        campaign_api.CampaignDispatchApi.as_view(),
        name="api-campaign-dispatch",
    ),
    # Backends, budgets and estimates (issue #7).
    path("estimate/", api_budget.EstimateApi.as_view(), name="api-estimate"),
    path("backends/", api_budget.BackendsApi.as_view(), name="api-backends"),
    path("backends/<str:name>/", api_budget.BackendDetailApi.as_view(), name="api-backend"),
    path("backends/<str:name>/test/", api_budget.BackendTestApi.as_view(), name="api-backend-test"),
    path("budgets/", api_budget.BudgetsApi.as_view(), name="api-budgets"),
    path("budgets/<int:budget_id>/", api_budget.BudgetDetailApi.as_view(), name="api-budget"),
]

urlpatterns = [
    path("requests/", views.request_list, name="request-list"),
    path("requests/new/", views.request_new, name="request-new"),
    path("requests/<int:request_id>/", views.request_detail, name="request-detail"),
    path("requests/<int:request_id>/cancel/", views.request_cancel, name="request-cancel"),
    path("requests/<int:request_id>/rerun/", views.request_rerun, name="request-rerun"),
    path("campaigns/", views.campaign_list, name="campaign-list"),
    path("campaigns/<int:campaign_id>/", views.campaign_detail, name="campaign-detail"),
    path(
        "campaigns/<int:campaign_id>/dispatch/",
        views.campaign_dispatch,
        name="campaign-dispatch",
    ),
    path("requests/new/estimate/", views_budget.request_estimate, name="request-estimate"),
    path("budgets/", views_budget.budgets_page, name="budgets"),
    path("backends/", views_budget.backends_page, name="backends"),
    path("backends/<str:name>/test/", views_budget.backend_test, name="backend-test"),
]
