"""What the OpenAPI schema says beyond each view's own answer: how to authenticate, and the
problem+json answers every operation can give.

drf-spectacular documents a view's success responses; the refusals come from the shared
layers (authentication, token scope, throttling, the body limit, ``If-Match``) and from the
services, so they are added here, to every operation, in one place. The schema is the
contract a client is generated from and that schemathesis checks each answer against.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from kapflow.api.problems import PROBLEM_CONTENT_TYPE, TITLES


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "kapflow.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (`kf_…`), made in your profile or with `kapflow token create EMAIL`.",
        }


class StaffSessionScheme(OpenApiAuthenticationExtension):
    target_class = "kapflow.api.authentication.SessionAuthentication"
    name = "cookieAuth"
    priority = -1

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        from django.conf import settings

        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "A signed-in staff member's browser session (writes also need the CSRF header).",
        }


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 7807 problem: what went wrong, and each field that needs attention.",
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                "required": ["field", "message"],
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
}

EVERY_OPERATION = (400, 401, 403, 404, 406, 429)
WITH_A_BODY = (409, 413, 415)
WITH_IF_MATCH = (412, 428)
WRITES = {"post", "put", "patch", "delete"}


def _statuses(method: str, operation: dict[str, Any]) -> list[int]:
    statuses = list(EVERY_OPERATION)
    if method in WRITES:
        statuses += WITH_A_BODY
    names = {
        str(p.get("name", "")).lower() for p in operation.get("parameters", []) if p.get("in") == "header"
    }
    if "if-match" in names:
        statuses += WITH_IF_MATCH
    return statuses


def problem_responses(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook: the problem+json answers of every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    reference = {"$ref": "#/components/schemas/Problem"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status in _statuses(method, operation):
                operation["responses"].setdefault(
                    str(status),
                    {
                        "description": str(TITLES[status]),
                        "content": {PROBLEM_CONTENT_TYPE: {"schema": reference}},
                    },
                )
    return result
