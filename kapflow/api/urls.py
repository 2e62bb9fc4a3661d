"""``/api/v1/``: the REST API, its OpenAPI schema and the documentation page."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from kapflow.api.docs import api_docs
from kapflow.api.views.appointments import AppointmentViewSet
from kapflow.api.views.courses import CourseViewSet, VisitViewSet
from kapflow.api.views.dosing import AdministrationViewSet, DosingSessionViewSet
from kapflow.api.views.measures import AlertViewSet, AssignmentViewSet, ResponseViewSet
from kapflow.api.views.notes import NoteViewSet
from kapflow.api.views.patients import PatientViewSet
from kapflow.api.views.screening import DecisionViewSet

app_name = "api"

router = SimpleRouter()
router.register("patients", PatientViewSet, basename="patient")
router.register("dosing-sessions", DosingSessionViewSet, basename="dosing-session")
router.register("administrations", AdministrationViewSet, basename="administration")
router.register("courses", CourseViewSet, basename="course")
router.register("visits", VisitViewSet, basename="visit")
router.register("notes", NoteViewSet, basename="note")
router.register("appointments", AppointmentViewSet, basename="appointment")
router.register("measure-assignments", AssignmentViewSet, basename="measure-assignment")
router.register("measure-responses", ResponseViewSet, basename="measure-response")
router.register("screening-decisions", DecisionViewSet, basename="screening-decision")
router.register("safety-alerts", AlertViewSet, basename="safety-alert")

urlpatterns: list[URLPattern | URLResolver] = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", api_docs, name="docs"),
]
