"""Core's organisation pages, under /<org>/."""

from django.urls import path

from .views import pages, reports

app_name = "core"

urlpatterns = [
    path("", pages.dashboard, name="dashboard"),
    path("settings/", pages.organisation_edit, name="organisation_edit"),
    *pages.pillar_pages.urls("pillars"),
    *pages.role_pages.urls("roles"),
    *pages.invitation_pages.urls("invitations"),
    *pages.change_pages.urls("changes"),
    *pages.job_pages.urls("jobs"),
    path("jobs/<int:pk>/progress/", pages.job_progress, name="job_progress"),
    path("lookup/<str:model>/", pages.lookup, name="lookup"),
    path("reports/", reports.report_list, name="report_list"),
]
