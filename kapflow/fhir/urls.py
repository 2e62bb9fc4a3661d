"""``/fhir/``: the CapabilityStatement, read and search (``read_urls``) and bulk export (``export_urls``)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

app_name = "fhir"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("kapflow.fhir.export_urls")),
    path("", include("kapflow.fhir.read_urls")),
]
