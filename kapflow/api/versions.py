"""Optimistic concurrency: ``ETag`` on every record read, ``If-Match`` on every change.

The ETag is the record's public id and its ``version`` (which every save increases). A
change must send the ETag it read: none gives 428, an old one 412, and a change another
writer saves between our check and the service's lock is refused by the service (its
``base_version``), which answers 412 too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

from django.utils.translation import gettext as _
from rest_framework.request import Request
from rest_framework.response import Response

from kapflow.api.problems import PreconditionFailed, PreconditionRequired
from kapflow.core.errors import Conflict

T = TypeVar("T")


class Versioned(Protocol):
    public_id: Any
    version: int


def etag(row: Versioned) -> str:
    return f'"{row.public_id}.{row.version}"'


def tagged(response: Response, row: Versioned) -> Response:
    response["ETag"] = etag(row)
    return response


def matched_version(request: Request, row: Versioned) -> int:
    """The version the caller's ``If-Match`` names (412/428 unless it is the current one)."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise PreconditionRequired()
    if header == "*":
        return row.version
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    if etag(row) not in tags:
        raise PreconditionFailed()
    return row.version


def honour_if_match(request: Request, row: Versioned | None) -> None:
    """A write that needs no If-Match still honours one that is sent (RFC 9110 13.1.1): it
    must name ``row``'s current ETag, or be ``*``. With no ``row`` (a create, or a record
    without an ETag) only ``*`` can hold. 412 otherwise; no header, no check."""
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        return
    if row is None:
        raise PreconditionFailed(_("There is no ETag here for If-Match to name: send none (or *)."))
    matched_version(request, row)


def versioned_change(request: Request, row: Versioned, change: Callable[[int], T]) -> T:
    """Run ``change(base_version)`` after the If-Match check; a lost race is a 412 too."""
    version = matched_version(request, row)
    try:
        return change(version)
    except Conflict as exc:
        manager = cast(Any, type(row))._default_manager
        fresh = manager.filter(public_id=row.public_id).values_list("version", flat=True).first()
        if fresh is not None and fresh != version:
            raise PreconditionFailed(exc.message) from exc
        raise
