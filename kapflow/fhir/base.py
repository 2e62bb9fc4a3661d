"""What every FHIR view shares: the API's callers and limits, ``application/fhir+json``, and
every error as an OperationOutcome with the HTTP status that says the same.

The views are DRF ``APIView``s, so the same token or session authentication, token scopes and
per-token rate limit apply as on ``/api/v1/``; only the error shape differs (FHIR readers
expect an OperationOutcome, never ``application/problem+json``).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, set_rollback

from kapflow.accounts.models import Membership
from kapflow.api.authentication import member_of
from kapflow.api.problems import field_errors, translate

FHIR_JSON = "application/fhir+json"
# http://hl7.org/fhir/issue-type for each HTTP answer.
ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    413: "too-long",
    415: "not-supported",
    429: "throttled",
}


class FhirJsonRenderer(JSONRenderer):
    media_type = FHIR_JSON
    format = "json"


class InvalidSearch(exceptions.ValidationError):
    """A search parameter kapflow does not support, or a value it cannot read (400)."""


def operation_outcome(detail: str, code: str, severity: str = "error") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": detail}],
    }


def fhir_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    error = translate(exc)
    if error is None:
        return None  # a bug: Django's 500 handler answers, and the test suite fails
    if isinstance(error, exceptions.ValidationError):
        detail = "; ".join(
            f"{item['field']}: {item['message']}" if item["field"] else item["message"]
            for item in field_errors(error.detail)
        )
    else:
        detail = str(error.detail)
    headers: dict[str, str] = {}
    if isinstance(error, exceptions.Throttled):
        headers["Retry-After"] = str(int(error.wait) + 1 if error.wait else 60)
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    set_rollback()
    return Response(
        operation_outcome(detail, ISSUE_CODES.get(error.status_code, "processing")),
        status=error.status_code,
        headers=headers,
        content_type=FHIR_JSON,
    )


class FhirView(APIView):
    schema = None  # described by the CapabilityStatement at /fhir/metadata, not the OpenAPI schema
    renderer_classes = [FhirJsonRenderer, JSONRenderer]

    def get_exception_handler(self) -> Any:
        return fhir_exception_handler

    @property
    def member(self) -> Membership:
        return member_of(self.request)

    def fhir(self, body: dict[str, Any], **kwargs: Any) -> Response:
        return Response(body, content_type=FHIR_JSON, **kwargs)

    def check_format(self, request: Request) -> None:
        """``_format`` may ask for JSON (the only format kapflow speaks)."""
        wanted = request.query_params.get("_format", "")
        if wanted and wanted not in ("json", FHIR_JSON, "application/json"):
            raise exceptions.NotAcceptable(_("kapflow answers in JSON only (_format=json)."))
