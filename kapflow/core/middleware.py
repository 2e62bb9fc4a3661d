from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kapflow.core import audit
from kapflow.core.errors import ApplicationError


class ApplicationErrorMiddleware:
    """Turn an ``ApplicationError`` raised anywhere below into a page with its message."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, ApplicationError):
            return render(
                request,
                "errors/application.html",
                {"message": exception.message},
                status=exception.status,
            )
        return None


class AuditBatchMiddleware:
    """The views a request reads are logged together when it ends: see ``audit.batched``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with audit.batched():
            return self.get_response(request)
