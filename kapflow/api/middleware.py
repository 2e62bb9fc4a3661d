"""Refuse an oversized API or FHIR body before anything reads it (413, in the API's shape).

Django's own limit (DATA_UPLOAD_MAX_MEMORY_SIZE) guards ``request.body``, but the API's
parsers read the stream directly, so the limit is applied here, from Content-Length (the WSGI server gives
Django no body beyond the Content-Length it announced).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.translation import gettext as _

from kapflow.api.problems import problem_response

PREFIXES = ("/api/", "/fhir/")


class BodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path.startswith(PREFIXES):
            limit = settings.KAPFLOW_API_MAX_BODY_BYTES
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return problem_response(request, 400, _("Content-Length is not a number."))
            if length > limit:
                return problem_response(
                    request,
                    413,
                    _("The body is %(got)d bytes; the API accepts at most %(max)d.")
                    % {"got": length, "max": limit},
                )
        return self.get_response(request)
