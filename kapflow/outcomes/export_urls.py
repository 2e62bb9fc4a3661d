"""Routes of the outcomes app's export pages (part of the "outcomes" namespace, see urls.py)."""

from django.urls import URLPattern, path

from kapflow.outcomes import export_views

urlpatterns: list[URLPattern] = [
    path("dashboard.csv", export_views.dashboard_csv, name="dashboard_csv"),
    path("research.csv", export_views.research_csv, name="research_csv"),
]
