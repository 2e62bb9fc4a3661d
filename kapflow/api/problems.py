"""Every API error is an RFC 7807 ``application/problem+json`` document.

``{"type", "title", "status", "detail", "errors": [{"field", "message"}]}``: ``errors``
lists each bad field (dotted paths for nested ones), so a program can show them beside its
inputs. The same shape is used for errors Django raises before the API view runs (unknown
URL, body too large) through ``problem_response``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from kapflow.core.errors import ApplicationError, FieldError

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://kapflow.org/problems/"

TITLES = {
    400: _("The request is not valid"),
    401: _("Sign in or send a valid token"),
    403: _("Not allowed"),
    404: _("Not found"),
    405: _("Method not allowed"),
    406: _("Cannot answer in the requested format"),
    409: _("Conflict"),
    412: _("The record changed since you read it"),
    413: _("The request body is too large"),
    415: _("Unsupported media type"),
    428: _("Send If-Match with the ETag you read"),
    429: _("Too many requests"),
}
SLUGS = {
    400: "invalid",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    412: "stale",
    413: "too-large",
    415: "unsupported-media-type",
    428: "precondition-required",
    429: "rate-limited",
}


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _("The record changed since you read it: read it again, then retry with its new ETag.")
    default_code = "stale"


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = _("Send the record's ETag in If-Match, so a change made meanwhile is not overwritten.")
    default_code = "precondition_required"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is larger than the API accepts.")
    default_code = "too_large"


def problem(status_code: int, detail: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + SLUGS.get(status_code, "error"),
        "title": str(TITLES.get(status_code, _("Error"))),
        "status": status_code,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return body


def field_errors(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """Flatten DRF's nested error detail into ``[{"field": "a.b", "message": ...}]``."""
    found: list[dict[str, str]] = []
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            name = "" if key in ("non_field_errors", "__all__") else str(key)
            found += field_errors(value, f"{prefix}.{name}" if prefix and name else prefix or name)
    elif isinstance(detail, Sequence) and not isinstance(detail, str):
        for index, value in enumerate(detail):
            if isinstance(value, Mapping | list):
                found += field_errors(value, f"{prefix}.{index}" if prefix else str(index))
            else:
                found += field_errors(value, prefix)
    else:
        found.append({"field": prefix, "message": str(detail)})
    return found


def _summary(errors: list[dict[str, str]]) -> str:
    if len(errors) == 1:
        error = errors[0]
        return f"{error['field']}: {error['message']}" if error["field"] else error["message"]
    return _("%(n)d fields need attention.") % {"n": len(errors)}


def translate(exc: Exception) -> exceptions.APIException | None:
    """Our and Django's exceptions as the DRF exception that says the same."""
    if isinstance(exc, exceptions.APIException):
        return exc
    if isinstance(exc, Http404):
        return exceptions.NotFound(str(exc) or _("No such record."))
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, FieldError):
        return exceptions.ValidationError({exc.field: [exc.message]})
    if isinstance(exc, ApplicationError):
        error = exceptions.APIException(exc.message)
        error.status_code = exc.status
        return error
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    error = translate(exc)
    if error is None:
        return None  # a bug: Django's 500 handler answers, and the test suite fails
    errors: list[dict[str, str]] = []
    if isinstance(error, exceptions.ValidationError):
        errors = field_errors(error.detail)
        detail = _summary(errors)
    else:
        detail = str(error.detail)
    headers: dict[str, str] = {}
    if isinstance(error, exceptions.Throttled) and error.wait is not None:
        headers["Retry-After"] = str(int(error.wait) + 1)
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    response = Response(
        problem(error.status_code, detail, errors),
        status=error.status_code,
        headers=headers,
        content_type=PROBLEM_CONTENT_TYPE,
    )
    request = context.get("request")
    if request is not None:
        # A problem is JSON whatever the view renders otherwise (the schema's YAML, an HTML page).
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = PROBLEM_CONTENT_TYPE
    set_rollback = context.get("view") is not None
    if set_rollback:
        from rest_framework.views import set_rollback as rollback

        rollback()
    return response


def problem_response(request: HttpRequest, status_code: int, detail: str) -> JsonResponse:
    """For errors raised outside DRF (URL not found, body too large, server error)."""
    return JsonResponse(problem(status_code, detail), status=status_code, content_type=PROBLEM_CONTENT_TYPE)
