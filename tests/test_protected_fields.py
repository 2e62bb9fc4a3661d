"""Protected fields: who a record is about, who wrote it, when it was signed, its status and
version are set by kapflow, never by what a form or an API request sends.

Two kinds of test:

* Structural: every form class of kapflow (wherever it is defined) and every serializer of the
  API is collected, and none may offer a protected field as writable unless ALLOWED_FORMS /
  ALLOWED_SERIALIZERS names the (class, field) with the reason. A new form that exposes
  ``patient``, ``author``, ``signed_at``, ``status``... fails here until someone writes down why.
  The protected names are PROTECTED_NAMES plus, from the models, every "who did it" user
  field (``*_by``) with its time (``*_at``) and every automatic timestamp.
* Behavioural: every route of the HTML matrix that takes a form is posted twice (each time
  rolled back) by a persona allowed to use it: the row's data, then the same data with forged
  protected values added (another patient, another clinic, another author, a signing time in
  2001, status "signed", version 99, a new public id; with each of the form's prefixes). The
  forged post must be ignored (the protected columns of every table end as after the honest
  post) or refused (nothing changes at all). Every write of the API matrix is sent with the
  forged fields added: 400, each forged field named, nothing changed.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

import pytest
from django import forms
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

import kapflow
from kapflow.api.serializers import ListFilter
from kapflow.patients.models import Patient
from kapflow.patients.services import patient_create
from tests.api.api_world import Records
from tests.api.test_api_matrix import ACCEPTED, Callers, send, state
from tests.api.test_api_matrix import MATRIX as API_MATRIX
from tests.test_authorization_matrix import ALLOWED, MATRIX, PERSONAS, POST_OUTCOMES, client_for, domain_state

PROTECTED_NAMES = frozenset(
    {
        "patient",
        "clinic",
        "author",
        "by",
        "status",
        "version",
        "public_id",
        "created_by",
        "updated_by",
        "signed_at",
        "signed_by",
        "voided_at",
        "voided_by",
        "voided_reason",
    }
)


def protected_names() -> frozenset[str]:
    """PROTECTED_NAMES, and from kapflow's models: who did something (a user field named
    ``*_by``) and when (its ``*_at``), and every timestamp kapflow sets itself."""
    found = set(PROTECTED_NAMES)
    for model in apps.get_models():
        if not model.__module__.startswith("kapflow."):
            continue
        names = {field.name for field in model._meta.concrete_fields}
        for field in model._meta.concrete_fields:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                found.add(field.name)
            to_user = isinstance(field, models.ForeignKey) and field.related_model is get_user_model()
            if to_user and field.name.endswith("_by"):
                found.add(field.name)
                when = field.name.removesuffix("_by") + "_at"
                if when in names:
                    found.add(when)
    return frozenset(found)


PROTECTED = protected_names()
T = TypeVar("T")

VERSION_CHECK = (
    "the version the form was loaded at: the service compares it (409 when stale), never stores it"
)
ALLOWED_FORMS: dict[tuple[str, str], str] = {
    (
        "kapflow.core.forms.AuditFilterForm",
        "patient",
    ): "filters the access log (a GET search): nothing is written",
    (
        "kapflow.intake.forms.QueueFilterForm",
        "status",
    ): "filters the triage queue (a GET search): nothing is written",
    (
        "kapflow.intake.forms.StatusForm",
        "status",
    ): "what the form is for: the request's triage status, by its service",
    (
        "kapflow.courses.forms.StatusForm",
        "status",
    ): "what the form is for: course_set_status checks the transition",
    (
        "kapflow.scheduling.forms.BookForm",
        "patient",
    ): "books a NEW appointment: choosing its patient is the point",
    (
        "kapflow.accounts.token_views.TokenCreateForm",
        "clinic",
    ): "a token for one of the person's own memberships",
    ("kapflow.consent.forms.SignForm", "version"): "the consent form's version the patient read and signs",
    ("kapflow.patients.forms.PatientForm", "version"): VERSION_CHECK,
    ("kapflow.patients.forms.ClinicalBackgroundForm", "version"): VERSION_CHECK,
    ("kapflow.courses.psychotherapy_forms.PsychotherapyNoteForm", "version"): VERSION_CHECK,
    ("kapflow.courses.psychotherapy_forms.SignForm", "version"): VERSION_CHECK,
    ("kapflow.dosing.forms.AdministrationForm", "version"): VERSION_CHECK,
}
ALLOWED_SERIALIZERS: dict[tuple[str, str], str] = {
    ("kapflow.api.views.appointments.AppointmentIn", "patient"): "books a NEW appointment for this patient",
    ("kapflow.api.views.measures.AssignmentIn", "patient"): "a NEW questionnaire assignment for this patient",
    (
        "kapflow.api.views.appointments.ConflictProblemOut",
        "status",
    ): "describes a 409 answer (its HTTP status) in the schema; reads no request",
}
# Query serializers (subclasses of ListFilter, and PatientQuery) read the query string of a GET:
# their "patient" and "status" filter a list, nothing is written.
QUERY_SERIALIZERS = ("kapflow.api.views.patients.PatientQuery",)


def kapflow_classes(base: type[T]) -> dict[str, type[T]]:
    """Every subclass of ``base`` defined in kapflow, by dotted name (every module imported)."""
    for module in pkgutil.walk_packages(kapflow.__path__, "kapflow."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)
    found = {}
    stack: list[type[T]] = [base]
    while stack:
        for cls in stack.pop().__subclasses__():
            stack.append(cls)
            if cls.__module__.startswith("kapflow.") and inspect.isclass(cls):
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return found


def test_protected_names_include_the_obvious_ones():
    assert {"recorded_by", "administered_by", "acknowledged_at", "decided_by", "created_at"} <= PROTECTED


def test_no_form_offers_a_protected_field_without_a_reason():
    classes = kapflow_classes(forms.BaseForm)
    assert (
        "kapflow.patients.forms.PatientForm" in classes
        and "kapflow.scheduling.feed_views.FeedForm" in classes
    )
    exposed = {
        (name, field_name)
        for name, cls in classes.items()
        for field_name, field in cast(type[forms.Form], cls).base_fields.items()
        if field_name in PROTECTED and not field.disabled
    }
    assert sorted(exposed - set(ALLOWED_FORMS)) == [], (
        "a form offers a protected field: say why in ALLOWED_FORMS"
    )
    assert sorted(set(ALLOWED_FORMS) - exposed) == [], "these ALLOWED_FORMS entries no longer exist"


def test_no_api_serializer_accepts_a_protected_field_without_a_reason():
    classes = kapflow_classes(serializers.Serializer)
    assert "kapflow.api.views.notes.NoteIn" in classes
    exposed = set()
    for name, cls in classes.items():
        if issubclass(cls, ListFilter) or name in QUERY_SERIALIZERS:
            continue
        for field_name, field in cls().fields.items():
            if field_name in PROTECTED and not field.read_only:
                exposed.add((name, field_name))
    assert sorted(exposed - set(ALLOWED_SERIALIZERS)) == [], "say why in ALLOWED_SERIALIZERS"
    assert sorted(set(ALLOWED_SERIALIZERS) - exposed) == [], (
        "these ALLOWED_SERIALIZERS entries no longer exist"
    )


# --- forging protected values -------------------------------------------------------------------
FORGED_TIME = "2001-02-03T04:05:06+00:00"


def another_patient(world) -> Patient:
    data = {
        "legal_given_name": "Sam",
        "legal_family_name": "Forged",
        "date_of_birth": datetime(1980, 1, 1).date(),
    }
    return patient_create(member=world.frontdesk, data=data)


def forged_values(world, other: Patient) -> dict[str, Any]:
    """A hostile value for every protected name (ids as a form would post them)."""
    values: dict[str, Any] = {}
    for name in PROTECTED:
        if name.endswith("_at"):
            values[name] = FORGED_TIME
        elif name.endswith("_by") or name in ("author", "by"):
            values[name] = str(world.admin.user_id)
    values.update(
        patient=str(other.pk),
        clinic=str(world.other.pk),
        status="signed",
        version="99",
        public_id=str(uuid.uuid4()),
        voided_reason="forged",
    )
    values.update(
        {f"{name}_id": value for name, value in list(values.items()) if name in ("patient", "clinic")}
    )
    return values


def forged_form_data(data: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The row's data plus the forged values, bare and under each form prefix the data uses;
    a field the form really has (in the data) keeps its honest value."""
    prefixes = {""} | {key.split("-", 1)[0] + "-" for key in data if "-" in key}
    forged = {prefix + name: value for prefix in prefixes for name, value in values.items()}
    return {**forged, **data}


def _when(value: Any) -> Any:
    """A timestamp set while the test ran is "now" (the honest and the forged post differ by
    milliseconds); any other value stays as it is."""
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in " T":
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        if aware > timezone.now() - timedelta(hours=1):
            return "now"
    return value


def protected_columns(
    snapshot: dict[str, list[dict[str, Any]]], before: dict[str, list[dict[str, Any]]]
) -> dict[str, list[dict[str, Any]]]:
    """The protected columns of every row, in order. A row added since ``before`` has a random
    public id and, on PostgreSQL, a primary key that differs between two rolled-back posts
    (sequences are not rolled back): its public id is left out, and a reference to such a row
    (a patient converted from a request...) reads "new"."""
    ids = {label: {row["id"] for row in rows if "id" in row} for label, rows in before.items()}

    def shown(row: dict[str, Any], label: str, column: str) -> Any:
        value = row[column]
        if column == "public_id" and row.get("id") not in ids.get(label, set()):
            return "new"
        if column.endswith("_id") and value is not None:
            target = REFERENCED.get(column.removesuffix("_id"), "accounts.User")
            return value if value in ids[target] else "new"
        return _when(value)

    return {
        label: [
            {column: shown(row, label, column) for column in row if column.removesuffix("_id") in PROTECTED}
            for row in rows
        ]
        for label, rows in snapshot.items()
    }


# What a protected reference points at (the others, "who did it", point at a user).
REFERENCED = {"patient": "patients.Patient", "clinic": "clinics.Clinic"}


def state_after_post(client: Client, path: str, data: dict[str, Any]) -> tuple[int, dict]:
    with transaction.atomic():
        status = client.post(path, data).status_code
        after = domain_state()
        transaction.set_rollback(True)
    return status, after


def poster(name: str) -> str:
    route = MATRIX[name]
    return next(
        persona
        for persona, status in zip(PERSONAS, route.get, strict=True)
        if status in ALLOWED and POST_OUTCOMES.get((name, persona), 302) == 302
    )


@pytest.fixture(autouse=True)
def demo_is_the_public_clinic(settings):
    settings.KAPFLOW_PUBLIC_CLINIC = "demo"


FORM_ROUTES = sorted(name for name, route in MATRIX.items() if route.data is not None)


@pytest.mark.parametrize("name", FORM_ROUTES)
def test_forged_protected_fields_in_a_form_are_ignored_or_refused(world, portal_user, name):
    route = MATRIX[name]
    assert route.data is not None
    path = reverse(name, kwargs=route.kwargs(world))
    data = route.data(world)
    forged = forged_form_data(data, forged_values(world, another_patient(world)))
    client = client_for(world, poster(name))
    before = domain_state()
    _status, honest = state_after_post(client, path, data)
    status, after_forged = state_after_post(client, path, forged)
    assert honest != before, f"the row's data changes nothing: {path}"
    if after_forged != before:  # accepted: the forged values were ignored
        assert protected_columns(after_forged, before) == protected_columns(honest, before), (
            f"a forged protected field was stored by POST {path} ({status})"
        )


# --- the API ------------------------------------------------------------------------------------
# Every write with a body (a DELETE has none: nothing to forge).
API_WRITES = sorted(
    (name, method)
    for name, route in API_MATRIX.items()
    for method in route.writes()
    if method not in ("get", "delete")
)


def forged_json(world, other: Patient) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: FORGED_TIME if name.endswith("_at") else world.admin.user.email for name in PROTECTED
    }
    values.update(
        patient=str(other.public_id), clinic="other", status="signed", version=99, public_id=str(uuid.uuid4())
    )
    return values


@pytest.mark.parametrize(("name", "method"), API_WRITES)
def test_forged_protected_fields_in_an_api_write_are_refused_by_name(world, portal_user, name, method):
    r = Records(world)
    route = API_MATRIX[name]
    write = route.writes()[method]
    path = reverse(name, kwargs=route.kwargs(r))
    body = write.body(r)
    forged = {
        key: value for key, value in forged_json(world, another_patient(world)).items() if key not in body
    }
    persona = next(p for p, status in zip(PERSONAS, write.expect, strict=True) if status in ACCEPTED)
    client = Callers(r)(persona, read_only=False)
    before = state()
    answer = send(client, method, path, replace(write, body=lambda _r: {**body, **forged}), r)
    assert answer.status_code == 400, f"{method.upper()} {path}: {answer.content[:300]!r}"
    named = {error["field"] for error in answer.json()["errors"]}
    assert sorted(set(forged) - named) == [], f"{method.upper()} {path} did not name every forged field"
    assert state() == before
