from django.urls import path

from approvals import review_urls, views

api_urlpatterns = [
    path("audit/", views.AuditApi.as_view(), name="api-audit"),
    path("requests/<int:pk>/audit/", views.RequestAuditApi.as_view(), name="api-request-audit"),
    path(
        "decisions/<int:decision_id>/evidence/",
        views.DecisionEvidenceApi.as_view(),
        name="api-decision-evidence",
    ),
    *review_urls.api_urlpatterns,
]

urlpatterns = [
    path("audit/", views.audit_page, name="audit"),
    path("audit/export.csv", views.audit_export, {"fmt": "csv"}, name="audit-export-csv"),
    path("audit/export.json", views.audit_export, {"fmt": "json"}, name="audit-export-json"),
    path(
        "decisions/<int:decision_id>/evidence/",
        views.decision_evidence_page,
        name="decision-evidence",
    ),
    *review_urls.urlpatterns,
]
