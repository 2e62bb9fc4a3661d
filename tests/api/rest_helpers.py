"""Helpers for the course, note, appointment, measure and screening API tests: the OpenAPI
schema the API publishes, and a check that an answer has exactly the fields it declares."""

from __future__ import annotations

import functools
from typing import Any

PROBLEM = "application/problem+json"


@functools.cache
def schema() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def component(name: str) -> dict[str, Any]:
    return schema()["components"]["schemas"][name]


def assert_shaped_as(body: dict[str, Any], name: str) -> None:
    """The body has the declared fields of component ``name``, every required one, and no others."""
    declared = component(name)
    assert set(body) <= set(declared["properties"]), set(body) - set(declared["properties"])
    assert set(declared.get("required", [])) <= set(body), set(declared.get("required", [])) - set(body)


def fields_in_error(response: Any) -> set[str]:
    assert response["Content-Type"] == PROBLEM, response.content
    return {error["field"] for error in response.json().get("errors", [])}
