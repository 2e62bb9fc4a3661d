"""FHIR read and search (under ``/fhir/``, namespace ``fhir``; ``$export`` routes come first)."""

from __future__ import annotations

from django.urls import URLPattern, path

from kapflow.fhir import views

urlpatterns: list[URLPattern] = [
    path("metadata", views.MetadataView.as_view(), name="metadata"),
    path("<str:resource_type>", views.SearchView.as_view(), name="search"),
    path("<str:resource_type>/<str:resource_id>", views.ReadView.as_view(), name="read"),
]
