"""``/fhir/``: the CapabilityStatement, read (``/fhir/<Type>/<id>``) and search
(``/fhir/<Type>?...``, a searchset Bundle).

Who may read what is decided by the same selectors as the pages: a Patient needs
``demographics.view``, every other patient resource ``clinical.view`` (care team only); a
record of another clinic is 404 and the refusal is logged. Every read is in the access log.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from kapflow.accounts.models import Membership
from kapflow.core import audit
from kapflow.core.access import deny
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.fhir import mapping, search
from kapflow.fhir.base import FhirView
from kapflow.fhir.capability import capability_statement
from kapflow.fhir.mapping import Resource
from kapflow.patients.models import Patient
from kapflow.patients.selectors import access_patient, clinical_patients

TYPES = frozenset(search.PARAMETERS)


def known_type(resource_type: str) -> str:
    if resource_type not in TYPES:
        raise exceptions.NotFound(_("kapflow has no %(type)s resources.") % {"type": resource_type[:60]})
    return resource_type


def action_for(resource_type: str) -> Action:
    return Action.DEMOGRAPHICS_VIEW if resource_type == "Patient" else Action.CLINICAL_VIEW


def log_search(member: Membership, resource_type: str, resources: Sequence[Resource], total: int) -> None:
    """One access-log entry for a page of a search over several patients."""
    refs = {ref for resource in resources for ref in _patient_refs(resource)}
    if resource_type != "Patient" and not refs:
        return  # nothing about anyone was shown
    patient = None
    if len(refs) == 1:
        patient = Patient.objects.filter(clinic=member.clinic, public_id=next(iter(refs))).first()
    audit.record(
        user=member.user,
        clinic=member.clinic,
        patient=patient,
        action=AuditAction.VIEW,
        category=DataCategory.DEMOGRAPHICS if resource_type == "Patient" else DataCategory.CLINICAL,
        detail=f"FHIR search of {resource_type}: {len(resources)} of {total} resource(s), {len(refs)} patient(s)",
    )


def _patient_refs(resource: Resource) -> set[str]:
    if resource["resourceType"] == "Patient":
        return {resource["id"]}
    if resource["resourceType"] == "Group":
        return {
            member["entity"]["reference"].removeprefix("Patient/") for member in resource.get("member", [])
        }
    for key in ("subject", "patient"):
        reference = resource.get(key, {}).get("reference", "")
        if reference.startswith("Patient/"):
            return {reference.removeprefix("Patient/")}
    return set()


class MetadataView(FhirView):
    """``GET /fhir/metadata``: public, as FHIR clients ask it before they authenticate."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        self.check_format(request)
        base = request.build_absolute_uri(reverse("fhir:metadata")).removesuffix("metadata")
        return self.fhir(capability_statement(base, timezone.now()))


class ReadView(FhirView):
    """``GET /fhir/<Type>/<id>``."""

    def get(self, request: Request, resource_type: str, resource_id: str) -> Response:
        self.check_format(request)
        known_type(resource_type)
        member = self.member
        if resource_type == "Group":
            return self.fhir(self.group(member, resource_id))
        action = action_for(resource_type)
        try:
            body, patient = mapping.resource(resource_type, member.clinic, resource_id)
        except mapping.NotFound:
            if resource_type == "Questionnaire":
                raise exceptions.NotFound(_("The clinic has no questionnaire with this id.")) from None
            elsewhere = mapping.owner_elsewhere(resource_type, resource_id)
            deny(member, action, f"no FHIR {resource_type} with that id in this clinic", elsewhere, hide=True)
            raise AssertionError("deny() always raises") from None
        if patient is not None:
            access_patient(member=member, public_id=patient.public_id, action=action)
        response = self.fhir(body)
        version = body.get("meta", {}).get("versionId")
        if version:
            response["ETag"] = f'W/"{version}"'
            response["Last-Modified"] = http_date(
                datetime.fromisoformat(body["meta"]["lastUpdated"]).timestamp()
            )
        return response

    def group(self, member: Membership, group_id: str) -> Resource:
        # Who may read cohorts at all is asked first, so that a refusal (403) does not depend
        # on whether a course started in that month (404).
        scope = clinical_patients(member=member)
        try:
            everyone = mapping.group_patients(member.clinic, group_id)
        except mapping.NotFound:
            raise exceptions.NotFound(_("Groups are course cohorts: Group/cohort-YYYY-MM.")) from None
        if not everyone.exists():
            raise exceptions.NotFound(_("No treatment course of this clinic started in that month."))
        body = mapping.group_resource(member.clinic, group_id, scope)
        log_search(member, "Group", [body], body["quantity"])
        return body


class SearchView(FhirView):
    """``GET /fhir/<Type>?...``: a searchset Bundle, paged with ``_count`` and ``_offset``."""

    def get(self, request: Request, resource_type: str) -> Response:
        self.check_format(request)
        known_type(resource_type)
        query = search.parse(
            resource_type, {name: request.query_params.getlist(name) for name in request.query_params}
        )
        member = self.member
        if resource_type in ("Questionnaire", "Group"):
            total, found = self.clinic_wide(member, query)
        else:
            patients = self.patients(member, query)
            total = mapping.count(resource_type, member.clinic, patients, query.narrow)
            found = []
            if query.count:
                found = mapping.page(
                    resource_type,
                    member.clinic,
                    patients,
                    offset=query.offset,
                    limit=query.count,
                    narrow=query.narrow,
                )
        if resource_type != "Questionnaire" and query.patient_id is None:
            log_search(member, resource_type, found, total)
        return self.fhir(self.bundle(request, query, total, found))

    def clinic_wide(self, member: Membership, query: search.Search) -> tuple[int, list[Resource]]:
        """The clinic's questionnaires, or its cohorts (with the members the caller cares for)."""
        wanted = {part.strip() for value in query.values("_id") for part in value.split(",")}
        if query.resource_type == "Questionnaire":
            everything = mapping.questionnaires(member.clinic)
            matching = [r for r in everything if not wanted or r["id"] in wanted]
            return len(matching), matching[query.offset : query.offset + query.count]
        scope = clinical_patients(member=member)
        ids = [g for g in mapping.group_ids(member.clinic) if not wanted or g in wanted]
        page = ids[query.offset : query.offset + query.count]  # only the page's cohorts are built
        return len(ids), mapping.group_resources(member.clinic, page, scope)

    def patients(self, member: Membership, query: search.Search) -> QuerySet[Patient]:
        action = action_for(query.resource_type)
        if query.patient_id is not None:
            patient = access_patient(member=member, public_id=query.patient_id, action=action)
            return Patient.objects.filter(pk=patient.pk)
        scope = clinical_patients(member=member, action=action)
        if query.resource_type == "Patient":
            scope = search.patients(query, scope)
        return scope

    def bundle(
        self, request: Request, query: search.Search, total: int, found: list[Resource]
    ) -> dict[str, Any]:
        def page_url(offset: int) -> str:
            params = {name: values for name, values in query.params.items() if name != "_offset"}
            params["_count"] = [str(query.count)]
            if offset:
                params["_offset"] = [str(offset)]
            return request.build_absolute_uri(request.path) + "?" + urlencode(params, doseq=True)

        links = [{"relation": "self", "url": page_url(query.offset)}]
        if query.count and query.offset + len(found) < total:
            links.append({"relation": "next", "url": page_url(query.offset + len(found))})
        if query.count and query.offset:
            links.append({"relation": "previous", "url": page_url(max(0, query.offset - query.count))})
        bundle: dict[str, Any] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": total,
            "link": links,
        }
        if found:  # FHIR JSON never has an empty array
            bundle["entry"] = [
                {
                    "fullUrl": request.build_absolute_uri(
                        reverse(
                            "fhir:read", kwargs={"resource_type": r["resourceType"], "resource_id": r["id"]}
                        )
                    ),
                    "resource": r,
                    "search": {"mode": "match"},
                }
                for r in found
            ]
        return bundle
