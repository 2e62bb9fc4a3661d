from django.urls import URLPattern, path

from kapflow.outcomes import course_urls, export_urls, views

app_name = "outcomes"

urlpatterns: list[URLPattern] = [
    path("", views.dashboard, name="dashboard"),
    *course_urls.urlpatterns,
    *export_urls.urlpatterns,
]
