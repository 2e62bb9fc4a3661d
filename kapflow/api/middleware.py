"""Refuse an oversized body before anything reads it: 413, in the API's shape or as a page.

Django's own limit (DATA_UPLOAD_MAX_MEMORY_SIZE) guards ``request.body`` and form fields, but
the API's parsers read the stream directly and uploaded files are not counted by it, so the
limits are applied here, from Content-Length (the WSGI server gives Django no body beyond the
Content-Length it announced): KAPFLOW_API_MAX_BODY_BYTES for the API and FHIR,
DATA_UPLOAD_MAX_MEMORY_SIZE for everything else (HTML forms, with their files).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template import loader
from django.utils.translation import gettext as _

from kapflow.api.problems import problem_response

PREFIXES = ("/api/", "/fhir/")


class BodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if request.path.startswith(PREFIXES):
            limit = settings.KAPFLOW_API_MAX_BODY_BYTES
            if length < 0:
                return problem_response(request, 400, _("Content-Length is not a number."))
            if length > limit:
                return problem_response(
                    request,
                    413,
                    _("The body is %(got)d bytes; the API accepts at most %(max)d.")
                    % {"got": length, "max": limit},
                )
        elif length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            # A page of its own, like the 500 page: nothing of the body is read, not even the CSRF token.
            page = loader.render_to_string(
                "errors/413.html", {"limit_kb": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024}
            )
            return HttpResponse(page, status=413)
        return self.get_response(request)
