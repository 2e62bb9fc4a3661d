"""FHIR Bulk Data ``$export`` routes (under ``/fhir/``, namespace ``fhir``)."""

from __future__ import annotations

from django.urls import URLPattern, path

from kapflow.fhir import export_views as views

urlpatterns: list[URLPattern] = [
    path("$export", views.ExportKickOff.as_view(), name="export"),
    # The Bulk Data "all patients" form: for kapflow every exported resource is a patient's
    # (or a Questionnaire), so it is the clinic's export, with the same permission.
    path("Patient/$export", views.ExportKickOff.as_view(), name="patients_export"),
    path("Patient/<str:patient_id>/$export", views.PatientExportKickOff.as_view(), name="patient_export"),
    path("Group/<str:group_id>/$export", views.GroupExportKickOff.as_view(), name="group_export"),
    path("$export-status/<str:job_id>", views.ExportStatusView.as_view(), name="export_status"),
    path(
        "$export-file/<str:job_id>/<str:resource_type>.ndjson",
        views.ExportFileView.as_view(),
        name="export_file",
    ),
]
