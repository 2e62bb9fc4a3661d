"""Routes of the outcomes app's course pages (part of the "outcomes" namespace, see urls.py)."""

from django.urls import URLPattern, path

from kapflow.outcomes import course_views

urlpatterns: list[URLPattern] = [
    path("courses/<uuid:course_id>/chart.svg", course_views.course_chart, name="course_chart"),
    path("courses/<uuid:course_id>/summary.pdf", course_views.course_pdf, name="course_pdf"),
]
