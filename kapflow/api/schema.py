"""What the OpenAPI schema says beyond each view's own answer: how to authenticate, the
problem+json answers every operation can give, and the links between operations.

drf-spectacular documents a view's success responses; the refusals come from the shared
layers (authentication, token scope, throttling, the body limit, ``If-Match``) and from the
services, so they are added here, to every operation, in one place. The schema is the
contract a client is generated from and that schemathesis checks each answer against; its
links are what schemathesis' stateful run follows (tests/fuzz/test_api_stateful.py).
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


# Fields of a record that name another record, by the collection that serves it (and the
# filters of a list that take one).
REFERENCES = {
    "patient": "patients",
    "course": "courses",
    "visit": "visits",
    "note": "notes",
    "session": "dosing-sessions",
    "dosing_session": "dosing-sessions",
    "response": "measure-responses",
    "replaces": "measure-responses",
    "replaced_by": "measure-responses",
}
PREFIX = "/api/v1/"
Operation = dict[str, Any]


def _collection(path: str) -> str:
    return path.removeprefix(PREFIX).split("/", 1)[0]


def _takes_if_match(operation: Operation) -> bool:
    return any(
        p.get("in") == "header" and str(p.get("name", "")).lower() == "if-match"
        for p in operation.get("parameters", [])
    )


def _record_fields(result: dict[str, Any], operation: Operation, status: str) -> set[str]:
    """The property names of the JSON record an operation answers with ``status``."""
    content = operation["responses"].get(status, {}).get("content", {}).get("application/json", {})
    reference = content.get("schema", {}).get("$ref", "")
    schema = result.get("components", {}).get("schemas", {}).get(reference.rsplit("/", 1)[-1], {})
    return set(schema.get("properties", {}))


def _link(target: Operation, *, public_id: str | None = None, **query: str) -> dict[str, Any]:
    parameters = {"path.public_id": public_id} if public_id else {}
    parameters.update({f"query.{name}": value for name, value in query.items()})
    if public_id and _takes_if_match(target):
        parameters["header.If-Match"] = "$response.header.ETag"
    return {"operationId": target["operationId"], "parameters": parameters}


def resource_links(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook: OpenAPI links between the operations, so a client
    (and schemathesis' stateful tests) can follow the API as a person would.

    A list leads to its first record; a record (read or just created) to every action on it,
    with its ETag in ``If-Match``; an action back to its record; a record to the records it
    names (a note's visit, course and patient...) and to the lists filtered by it (a patient's
    courses, appointments, alerts...)."""
    operations = [
        (method, path, operation)
        for path, item in result.get("paths", {}).items()
        if path.startswith(PREFIX)
        for method, operation in item.items()
        if isinstance(operation, dict) and "operationId" in operation
    ]
    lists: dict[str, Operation] = {}
    creates: dict[str, Operation] = {}
    details: dict[str, Operation] = {}
    actions: dict[str, list[Operation]] = {}
    for method, path, operation in operations:
        name = _collection(path)
        if path == f"{PREFIX}{name}/" and method == "get":
            lists[name] = operation
        elif path == f"{PREFIX}{name}/" and method == "post":
            creates[name] = operation
        elif path == f"{PREFIX}{name}/{{public_id}}/" and method == "get":
            details[name] = operation
        elif path.startswith(f"{PREFIX}{name}/{{public_id}}/"):
            actions.setdefault(name, []).append(operation)

    def add(source: Operation, status: str, name: str, link: dict[str, Any]) -> None:
        if status in source["responses"]:
            source["responses"][status].setdefault("links", {})[name] = link

    record = "$response.body#/id"
    for name, detail in details.items():
        read = detail["operationId"]
        if name in lists:
            add(lists[name], "200", read, _link(detail, public_id="$response.body#/results/0/id"))
        if name in creates:
            add(creates[name], "201", read, _link(detail, public_id=record))
        for action in actions.get(name, []):
            add(detail, "200", action["operationId"], _link(action, public_id=record))
            if name in creates:
                add(creates[name], "201", action["operationId"], _link(action, public_id=record))
            for status in ("200", "201"):
                add(action, status, read, _link(detail, public_id="$request.path.public_id"))
        for field in sorted(_record_fields(result, detail, "200")):
            named = details.get(REFERENCES.get(field, ""))
            if named is not None:
                add(detail, "200", field, _link(named, public_id=f"$response.body#/{field}"))
        for listed in lists.values():
            for field in sorted(f for f in _filters(listed) if REFERENCES.get(f) == name):
                add(detail, "200", listed["operationId"], _link(listed, **{field: record}))
    for name, create in creates.items():
        fields = _record_fields(result, create, "201")
        if name in lists:  # the list the new record joins, filtered by what it names (its patient...)
            for field in sorted(fields & _filters(lists[name])):
                add(
                    create,
                    "201",
                    lists[name]["operationId"],
                    _link(lists[name], **{field: f"$response.body#/{field}"}),
                )
    return result


def _filters(listed: Operation) -> set[str]:
    return {p["name"] for p in listed.get("parameters", []) if p.get("in") == "query"}
