"""Hostile input to every write operation of the API: each is refused with a 4xx
``application/problem+json`` answer (RFC 7807: type, title, status, detail), never a 500, and
nothing is saved.

The operations are read from the OpenAPI schema the API publishes, so a new write operation
fails ``test_every_write_operation_has_hostile_cases`` until it has a row in ``TARGETS``: the
persona allowed to make it (with a read-write token), the record its URL names and a body
that works. Each hostile case then breaks one thing of that working request:

* the body as a whole: malformed JSON, a JSON array, string, number or null, deep nesting,
  another media type, an unknown field, each field the caller may not set (those the answer
  shows but the request does not take: id, patient, author, status, version...);
* each field of the request schema, with values of the wrong type or out of range: numbers
  for strings, strings for numbers and booleans, 2**70, negatives, NaN/Infinity literals,
  10k-character strings, NUL bytes and lone surrogates, impossible and overflowing dates;
* the headers and the target: a 10 MB body (413), a stale and a malformed ``If-Match``
  (412), another clinic's record in the URL or the body (404), a revoked token (401) and a
  read-only one (403).

``test_the_working_request_is_accepted`` guards the rest: the unbroken request does change the
database, so a refusal that changes nothing is the API's doing. A hypothesis property test
then posts random JSON values (with the operation's own field names) into each operation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from kapflow.api.models import ApiToken
from kapflow.api.tokens import token_revoke
from kapflow.api.versions import etag
from kapflow.courses import rules
from kapflow.patients.models import Patient
from tests.api.api_world import Records
from tests.api.helpers import token_for
from tests.api.rest_helpers import schema
from tests.conftest import World
from tests.scheduling.helpers import at, weekday_ahead
from tests.test_authorization_matrix import domain_state

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
WRITE_METHODS = ("post", "put", "patch", "delete")
HUGE = 2**70
LONG = "x" * 10_240
NUL = "a\u0000b"
SURROGATE = "a\ud800b"  # valid JSON ("a\\ud800b"), but no UTF-8 text: it cannot be stored
RAW = "__raw_json_literal__"  # replaced by a literal that json.dumps cannot write (NaN, 1e400)
LITERALS = ("NaN", "Infinity", "1e400")  # -Infinity and -1e400: once per operation


# --- the operations and how to make each one work -----------------------------------------------
@dataclass(frozen=True)
class Target:
    persona: str  # who may make the change (a read-write token)
    body: Callable[[Records], Any]  # a body that works
    record: Callable[[Records], Any] | None = None  # the record the URL names (and If-Match)
    foreign_body: Callable[[Records], Any] | None = None  # the body naming another clinic's record


def jordan_id(r: Records) -> str:
    return str(r.patient.public_id)


def other_patient_id(r: Records) -> str:
    return str(r.world.other_patient.public_id)


def booking(r: Records, patient: str) -> dict[str, Any]:
    return {
        "patient": patient,
        "kind": "preparation",
        "start": at(weekday_ahead(9), 13).isoformat(),
        "staff": ["theo@demo.test"],
    }


def assignment(r: Records, patient: str) -> dict[str, Any]:
    return {
        "patient": patient,
        "instrument": "gad7",
        "schedule": "once",
        "starts_on": (r.today + timedelta(days=3)).isoformat(),
    }


TARGETS: dict[tuple[str, str], Target] = {
    ("POST", "/api/v1/patients/"): Target(
        "frontdesk",
        lambda r: {
            "legal_given_name": "Casey",
            "legal_family_name": "Lee",
            "date_of_birth": "1990-05-05",
            "sex_at_birth": "female",
        },
    ),
    ("PATCH", "/api/v1/patients/{public_id}/"): Target(
        "prescriber", lambda r: {"pronouns": "they/them"}, record=lambda r: r.patient
    ),
    ("POST", "/api/v1/dosing-sessions/{public_id}/administrations/"): Target(
        "prescriber", lambda r: {"dose_mg": "200", "lot_number": "LOT-A1"}, record=lambda r: r.session
    ),
    ("POST", "/api/v1/dosing-sessions/{public_id}/readings/"): Target(
        "prescriber",
        lambda r: {"kind": "vitals", "systolic": 120, "diastolic": 80},
        record=lambda r: r.session,
    ),
    ("POST", "/api/v1/dosing-sessions/{public_id}/events/"): Target(
        "prescriber",
        lambda r: {"kind": "nausea_vomiting", "severity": "mild", "outcome": "resolved"},
        record=lambda r: r.dosed_session,
    ),
    ("PATCH", "/api/v1/notes/{public_id}/"): Target(
        "therapist", lambda r: {"content": {"what_came_up": "Grief"}}, record=lambda r: r.draft_note
    ),
    ("POST", "/api/v1/notes/{public_id}/sign/"): Target(
        "therapist", lambda r: {}, record=lambda r: r.draft_note
    ),
    ("POST", "/api/v1/notes/{public_id}/addenda/"): Target(
        "prescriber", lambda r: {"text": "The dose was 200 mg."}, record=lambda r: r.signed_note
    ),
    ("POST", "/api/v1/appointments/"): Target(
        "prescriber",
        lambda r: booking(r, jordan_id(r)),
        foreign_body=lambda r: booking(r, other_patient_id(r)),
    ),
    ("POST", "/api/v1/appointments/{public_id}/cancel/"): Target(
        "prescriber", lambda r: {"reason": "Unwell"}, record=lambda r: r.appointment
    ),
    ("POST", "/api/v1/measure-assignments/"): Target(
        "prescriber",
        lambda r: assignment(r, jordan_id(r)),
        foreign_body=lambda r: assignment(r, other_patient_id(r)),
    ),
    ("POST", "/api/v1/safety-alerts/{public_id}/acknowledge/"): Target(
        "prescriber", lambda r: {"action_taken": "Called the patient; safe."}, record=lambda r: r.alert
    ),
}


def write_operations() -> list[tuple[str, str]]:
    return sorted(
        (method.upper(), path)
        for path, operations in schema()["paths"].items()
        for method in operations
        if method in WRITE_METHODS
    )


def operation(method: str, path: str) -> dict[str, Any]:
    return schema()["paths"][path][method.lower()]


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema()["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def request_properties(method: str, path: str) -> dict[str, dict[str, Any]]:
    content = operation(method, path).get("requestBody", {}).get("content", {})
    body = content.get("application/json", {}).get("schema")
    return {name: resolve(prop) for name, prop in resolve(body)["properties"].items()} if body else {}


def response_properties(method: str, path: str) -> set[str]:
    found: set[str] = set()
    for answer in operation(method, path)["responses"].values():
        body = answer.get("content", {}).get("application/json", {}).get("schema")
        if body:
            found |= set(resolve(body).get("properties", {}))
    return found


def takes_if_match(method: str, path: str) -> bool:
    return any(
        p["in"] == "header" and p["name"] == "If-Match" for p in operation(method, path).get("parameters", [])
    )


# --- hostile values per field, from its schema -------------------------------------------------
def wrong_values(prop: dict[str, Any]) -> list[Any]:
    """Values a field of this schema must refuse (type, format, range, length, encoding)."""
    options = prop.get("oneOf", [prop])
    kinds = {option.get("type") for option in options}
    formats = {option.get("format") for option in options}
    blank_allowed = any(option.get("maxLength") == 0 for option in options) or not (
        formats & {"date", "date-time", "uuid", "email", "decimal"} or prop.get("minLength") or "enum" in prop
    )
    values: list[Any] = [[LONG], {"nested": {"deeper": [1, 2, 3]}}]
    if not prop.get("nullable"):
        values.append(None)
    if "string" in kinds:
        values += [HUGE, -1, True, NUL, SURROGATE]
        if "decimal" not in formats:  # a number is a decimal's other spelling
            values.append(1.5)
        if prop.get("maxLength", len(LONG)) < len(LONG):
            values.append(LONG)
        if not blank_allowed:
            values.append("")
        if "enum" in prop:
            values += ["no-such-choice", prop["enum"][0].upper() + "!"]
        if "date" in formats:
            values += ["0000-00-00", "2026-02-30", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00"]
        if "date-time" in formats:
            values += [
                "0000-00-00",
                "2026-02-30T10:00:00Z",
                "9999-12-31T23:59:59Z",  # far in the future
                "9999-12-31T23:59:59",  # no zone: the clinic's zone makes it overflow in UTC
                "9999-12-31T23:59:59-12:00",  # overflows when converted
                "0001-01-01T00:00:00+14:00",  # overflows when converted
                "1900-01-01T00:00:00Z",  # long before anything it could describe
            ]
        if "uuid" in formats:
            values += ["not-a-uuid", "00000000-0000-0000-0000-000000000000", "../" * 12]
        if "email" in formats:
            values += ["not an email", "theo@demo.test\u0000"]
        if "decimal" in formats:
            values += ["abc", "NaN", "Infinity", "1e400", "-1", "99999999", "9" * 10_000]
    if "integer" in kinds:
        values += ["5", HUGE, -HUGE, 1.5, True, LONG, 1e308]
        if "minimum" in prop:
            values.append(prop["minimum"] - 1)
        if "maximum" in prop:
            values.append(prop["maximum"] + 1)
    if "boolean" in kinds:
        values += ["true", 1, HUGE]
    if "array" in kinds:
        values = [v for v in values if not isinstance(v, list)]
        values += [
            "theo@demo.test",
            [123],
            [None],
            [LONG],
            [NUL],
            ["nobody@nowhere.invalid"],
            ["theo@demo.test"] * 11,
        ]
    if "object" in kinds:
        values = [v for v in values if not isinstance(v, dict)]
        values += ["text", HUGE, True]
    return values


def content_values() -> dict[str, list[Any]]:
    """Wrong values for each field of the integration note (the draft note's template)."""
    found: dict[str, list[Any]] = {}
    for spec in rules.template_for("integration").fields:
        wrong: list[Any] = [None, HUGE, -1, [LONG], {"a": {"b": {}}}, NUL, SURROGATE]
        if spec.kind == rules.FieldKind.TEXT:
            wrong += [True, "x" * (rules.MAX_TEXT + 1)]
        elif spec.kind == rules.FieldKind.BOOL:
            wrong += ["true", 1]
        else:
            wrong += ["item", [123], ["no-such-item"]]
        found[spec.name] = wrong
    return found


def nested(depth: int, leaf: Any = 1) -> Any:
    for _level in range(depth):
        leaf = {"a": leaf}
    return leaf


def encode(body: Any, literal: str | None = None) -> bytes:
    text = json.dumps(body)
    if literal is not None:
        text = text.replace(json.dumps(RAW), literal)
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate goes as its JSON escape


# --- the cases ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    content_type: str = "application/json"


def body_cases(method: str, path: str, good: dict[str, Any]) -> Iterator[tuple[str, list[Case]]]:
    """Groups of cases, each group checked against the database once."""
    yield (
        "the body as a whole",
        [
            Case("malformed JSON", b'{"a": '),
            Case("trailing comma", b'{"a": 1,}'),
            Case("single quotes", b"{'a': 1}"),
            Case("not UTF-8", b'{"a": "\xff\xfe"}'),
            Case("a NUL byte outside a string", b'{"a": 1}\x00'),
            Case("a JSON array", encode([good])),
            Case("an empty JSON array", b"[]"),
            Case("a JSON string", b'"text"'),
            Case("a JSON number", b"42"),
            Case("a huge JSON number", str(HUGE).encode()),
            Case("true", b"true"),
            Case("null", b"null"),
            Case("NaN", b"NaN"),
            Case("-Infinity in a field", encode({**good, "x": RAW}, "-Infinity")),
            Case("-1e400 in a field", encode({**good, "x": RAW}, "-1e400")),
            Case("nested past the recursion limit", b"[" * 100_000 + b"]" * 100_000),
            Case("objects nested past the recursion limit", b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
            Case("objects nested 900 deep", encode({**good, "deep": nested(900)})),
            Case("form data", b"a=1&b=2", "application/x-www-form-urlencoded"),
            Case("plain text", encode(good), "text/plain"),
            Case("XML", b"<a>1</a>", "application/xml"),
            Case("an unknown field", encode({**good, "unknown_field": "x"})),
            Case("a NUL in a field name", encode({**good, "a\u0000": "x"})),
            Case("a lone surrogate in a field name", encode({**good, SURROGATE: "x"})),
            Case(
                "a duplicated field", encode(good)[:-1] + b', "' + next(iter(good), "x").encode() + b'": []}'
            ),
        ],
    )
    taken = set(request_properties(method, path))
    shown = sorted(response_properties(method, path) - taken)
    yield (
        "fields set by kapflow",
        [Case(f"{name} (set by kapflow)", encode({**good, name: "x"})) for name in shown]
        + [Case(f"{name}=null (set by kapflow)", encode({**good, name: None})) for name in shown],
    )
    for name, prop in request_properties(method, path).items():
        cases = [Case(f"{name}={value!r:.60}", encode({**good, name: value})) for value in wrong_values(prop)]
        cases += [Case(f"{name}={literal}", encode({**good, name: RAW}, literal)) for literal in LITERALS]
        yield f"field {name}", cases
    if "content" in taken:
        for field_name, values in content_values().items():
            yield (
                f"content.{field_name}",
                [
                    Case(f"content.{field_name}={value!r:.60}", encode({"content": {field_name: value}}))
                    for value in values
                ]
                + [
                    Case(f"content.{field_name}={literal}", encode({"content": {field_name: RAW}}, literal))
                    for literal in LITERALS
                ],
            )
        yield (
            "content as a whole",
            [
                Case("content with an unknown field", encode({"content": {"no_such_field": "x"}})),
                Case("content nested 900 deep", encode({"content": {"what_came_up": nested(900)}})),
                Case("content with a NUL in a field name", encode({"content": {"what\u0000": "x"}})),
            ],
        )


# --- checks -------------------------------------------------------------------------------------
def state() -> dict[str, list[dict[str, Any]]]:
    """The database as ``domain_state`` sees it, without the time a token was last used."""
    found = domain_state()
    found[ApiToken._meta.label] = [
        {k: v for k, v in row.items() if k != "last_used_at"} for row in found[ApiToken._meta.label]
    ]
    return found


def assert_problem(response: Any, what: str, expected: set[int] | None = None) -> None:
    status = response.status_code
    shown = response.content[:300]
    assert status != 500, f"{what}: a server error"
    assert 400 <= status < 500, f"{what}: {status} {shown!r}"
    if expected is not None:
        assert status in expected, f"{what}: {status}, expected {sorted(expected)}: {shown!r}"
    assert response["Content-Type"] == PROBLEM, f"{what}: {response['Content-Type']} {shown!r}"
    body = response.json()
    assert isinstance(body, dict), f"{what}: {body!r}"
    assert {"type", "title", "status", "detail"} <= set(body), f"{what}: {body!r}"
    assert body["status"] == status, f"{what}: {body!r}"
    assert isinstance(body["type"], str) and body["type"].startswith("https://"), f"{what}: {body!r}"
    assert isinstance(body["title"], str) and body["title"], f"{what}: {body!r}"
    assert isinstance(body["detail"], str) and body["detail"], f"{what}: {body!r}"
    for error in body.get("errors", []):
        assert set(error) == {"field", "message"}, f"{what}: {body!r}"


class Caller:
    """Makes the operation's request as the target's persona, on the target's record."""

    def __init__(self, world: World, records: Records, method: str, path: str) -> None:
        self.world, self.records, self.method, self.path = world, records, method, path
        self.target = TARGETS[(method, path)]
        self.member = world.member(self.target.persona)
        self.row = self.target.record(records) if self.target.record else None
        self.good = self.target.body(records)
        self.client = APIClient()  # one client: each one loads the middleware anew
        self.tokens = {
            "read-write": token_for(self.member),
            "read-only": token_for(self.member, read_only=True),
        }
        for token in self.tokens.values():  # the first use stores its time: not part of a case
            self.call(b"{}", token=token, method="GET", url="/api/v1/patients/")

    def url(self, public_id: Any = None) -> str:
        if public_id is None and self.row is not None:
            public_id = self.row.public_id
        return self.path if public_id is None else self.path.replace("{public_id}", str(public_id))

    def if_match(self) -> dict[str, str]:
        if self.row is None or not takes_if_match(self.method, self.path):
            return {}
        self.row.refresh_from_db()
        return {"HTTP_IF_MATCH": etag(self.row)}

    def call(
        self,
        data: bytes,
        *,
        content_type: str = "application/json",
        token: str | None = None,
        headers: dict[str, str] | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> Any:
        return self.client.generic(
            method or self.method,
            url or self.url(),
            data,
            content_type=content_type,
            HTTP_AUTHORIZATION=f"Bearer {token or self.tokens['read-write']}",
            **(self.if_match() if headers is None else headers),
        )

    def refused(self, cases: list[Case], group: str) -> None:
        before = state()
        for case in cases:
            response = self.call(case.data, content_type=case.content_type)
            assert_problem(response, f"{self.method} {self.path} {case.name}")
        assert state() == before, f"{self.method} {self.path}: a case of '{group}' changed the database"


@pytest.fixture
def quiet_api(settings: Any) -> Iterator[None]:
    settings.KAPFLOW_API_RATE_LIMIT = 1_000_000
    cache.clear()
    yield
    cache.clear()


OPERATIONS = sorted(TARGETS)


def test_every_write_operation_has_hostile_cases():
    assert write_operations(), "the schema has write operations"
    assert sorted(set(write_operations()) - set(TARGETS)) == [], "add a Target for these operations"
    assert sorted(set(TARGETS) - set(write_operations())) == [], "these Targets name no operation"
    for method, path in write_operations():
        count = sum(len(cases) for _group, cases in body_cases(method, path, {"placeholder": 1}))
        assert count >= 20, f"{method} {path} has only {count} hostile bodies"


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_the_working_request_is_accepted(world, quiet_api, method, path):
    """Guards the hostile cases: unbroken, the request works (and changes the database)."""
    caller = Caller(world, Records(world), method, path)
    before = state()
    response = caller.call(encode(caller.good))
    assert response.status_code in (200, 201), response.content[:500]
    assert state() != before
    # Sent again (with the record's new ETag): done twice, or refused as a problem; never a 500
    # (a unique constraint the service does not check first would be an IntegrityError).
    again = caller.call(encode(caller.good))
    if again.status_code >= 400:
        assert_problem(again, f"{method} {path} sent twice")


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_hostile_bodies_are_refused_and_change_nothing(world, quiet_api, method, path):
    caller = Caller(world, Records(world), method, path)
    groups = list(body_cases(method, path, caller.good))
    assert sum(len(cases) for _group, cases in groups) > 20, "too few hostile cases"
    for group, cases in groups:
        caller.refused(cases, group)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_hostile_requests_are_refused_and_change_nothing(world, quiet_api, method, path, settings):
    """The working body with something else wrong: size, If-Match, the record, the token."""
    records = Records(world)
    caller = Caller(world, records, method, path)
    good = encode(caller.good)
    where = f"{method} {path}"
    before = state()

    big = encode({**caller.good, "padding": "x" * (10 * 1024 * 1024)})
    assert_problem(caller.call(big), f"{where} with a 10 MB body", {413})
    for header in ('"stale.0"', "garbage", '"' + "x" * 5000 + '"', 'W/"', ","):
        assert_problem(
            caller.call(good, headers={"HTTP_IF_MATCH": header}), f"{where} If-Match {header[:20]}", {412}
        )
    if caller.row is not None and hasattr(caller.row, "version"):
        stale = {"HTTP_IF_MATCH": f'"{caller.row.public_id}.{caller.row.version - 1}"'}
        assert_problem(caller.call(good, headers=stale), f"{where} with a stale If-Match", {412})
    assert_problem(caller.call(good, token=caller.tokens["read-only"]), f"{where} read-only token", {403})
    assert_problem(caller.call(good, token="kf_" + "x" * 40), f"{where} unknown token", {401})
    assert state() == before, f"{where}: a refused request changed the database"

    if caller.target.foreign_body is not None:
        foreign = encode(caller.target.foreign_body(records))
        assert_problem(caller.call(foreign), f"{where} naming another clinic's patient", {404})
        assert state() == before, f"{where}: naming another clinic's patient changed the database"
    if caller.row is not None:
        with transaction.atomic():
            moved = elsewhere(caller.row, world)
            foreign_before = state()
            current = {"HTTP_IF_MATCH": etag(moved)} if takes_if_match(method, path) else {}
            response = caller.call(good, headers=current, url=caller.url(moved.public_id))
            assert_problem(response, f"{where} on another clinic's record", {404})
            assert state() == foreign_before, f"{where}: another clinic's record changed"
            transaction.set_rollback(True)

    token_revoke(
        user=caller.member.user, token=ApiToken.objects.get(membership=caller.member, read_only=False)
    )
    revoked = state()
    assert_problem(caller.call(good), f"{where} revoked token", {401})
    assert state() == revoked, f"{where}: a revoked token changed the database"


def elsewhere(row: Any, world: World) -> Any:
    """Another clinic's record: Olivia for a patient, else this record moved to her clinic."""
    if isinstance(row, Patient):
        return world.other_patient
    type(row)._default_manager.filter(pk=row.pk).update(clinic=world.other, patient=world.other_patient)
    row.refresh_from_db()
    return row


# --- random JSON --------------------------------------------------------------------------------
def json_values(names: list[str]) -> st.SearchStrategy[Any]:
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**80), max_value=2**80)
        | st.floats(allow_nan=True, allow_infinity=True)
        | st.text(max_size=40)
        | st.sampled_from(["", "0000-00-00", "9999-12-31T23:59:59Z", "2026-01-01", NUL, SURROGATE, "LOT-A1"])
    )
    keys = st.sampled_from(names) if names else st.text(max_size=10)
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(keys | st.text(max_size=8), inner, max_size=5)
        ),
        max_leaves=12,
    )


def bodies(method: str, path: str) -> st.SearchStrategy[Any]:
    names = sorted(request_properties(method, path))
    fields = (
        st.dictionaries(st.sampled_from(names), json_values(names), max_size=len(names))
        if names
        else st.none()
    )
    return st.one_of(json_values(names), fields)


def dumps(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode("utf-8", "surrogatepass")


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_random_json_is_never_a_server_error(world, quiet_api, method, path):
    caller = Caller(world, Records(world), method, path)

    @settings(
        max_examples=30,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(body=bodies(method, path))
    def posted(body: Any) -> None:
        with transaction.atomic():
            response = caller.call(dumps(body))
            assert response.status_code < 500, f"{method} {path} {body!r:.300}: {response.content[:300]!r}"
            if response.status_code >= 400:
                assert_problem(response, f"{method} {path} {body!r:.300}")
            transaction.set_rollback(True)

    posted()


# --- the reads: hostile query parameters and headers ----------------------------------------------
def list_paths() -> list[str]:
    return sorted(p for p, ops in schema()["paths"].items() if "get" in ops and "{" not in p)


def wrong_query_values(prop: dict[str, Any]) -> list[str]:
    """Query-string values (all text) a parameter of this schema must refuse."""
    prop = resolve(prop)
    values = ["a\x00b"]
    if "enum" in prop:
        values += ["no-such-choice", str(prop["enum"][0]).upper() + "!"]
    if prop.get("format") == "uuid":
        values += ["not-a-uuid", "1" * 40]
    if prop.get("format") == "date":
        values += ["0000-00-00", "2026-02-30", "9999-12-31T23:59:59Z", "yesterday"]
    if prop.get("type") == "boolean":
        values += ["maybe", "2"]
    if prop.get("type") == "integer":
        values += ["abc", "1.5"]
    if "maxLength" in prop:
        values.append("x" * (prop["maxLength"] + 1))
    return values


def test_hostile_query_parameters_of_every_list_are_refused(world, quiet_api):
    records = Records(world)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(world.prescriber)}")
    other = str(world.other_patient.public_id)
    paths = list_paths()
    assert len(paths) >= 11
    client.get(paths[0])  # the token's first use stores its time
    before = state()
    for path in paths:
        cases: list[tuple[dict[str, str], set[int] | None]] = [
            ({"unknown": "1"}, {400}),
            ({"patient": other}, {404}),
            ({"patient": "4b1f5a1c-3f8e-4f7e-9d7a-000000000000"}, {404}),
            ({"page": "abc"}, {404}),
            ({"page": "0"}, {404}),
            ({"page": str(10**30)}, {404}),
            ({"format": "xml"}, {404}),
        ]
        for parameter in operation("GET", path).get("parameters", []):
            if parameter["in"] == "query" and parameter["name"] not in ("page", "page_size"):
                cases += [({parameter["name"]: v}, {400}) for v in wrong_query_values(parameter["schema"])]
        if {"since", "until"} <= {p["name"] for p in operation("GET", path).get("parameters", [])}:
            cases.append(({"since": "2026-02-01", "until": "2026-01-01"}, {400}))
        if path == "/api/v1/patients/":
            cases = [(params, {400} if "patient" in params else expected) for params, expected in cases]
        for params, expected in cases:
            assert_problem(client.get(path, params), f"GET {path} {params!r:.80}", expected)
        # At the ends of the calendar, and beyond any page size: an answer, not an error.
        for params in (
            {"since": "0001-01-01"},
            {"until": "9999-12-31"},
            {"since": "9999-12-31"},
            {"page_size": "abc"},
            {"page_size": "-1"},
            {"page_size": str(10**30)},
        ):
            if path == "/api/v1/patients/" and "page_size" not in params:
                continue
            response = client.get(path, params)
            assert response.status_code == 200, (path, params, response.content[:300])
    for accept in ("application/xml", "text/html"):
        response = client.get(paths[0], HTTP_ACCEPT=accept)
        assert_problem(response, f"GET {paths[0]} Accept {accept}", {406})
    assert state() == before
    assert records.patient  # the same world the writes use


def test_a_content_length_that_lies_is_refused(world, quiet_api):
    caller = Caller(world, Records(world), "POST", "/api/v1/patients/")
    good = encode(caller.good)
    before = state()
    lengths: list[tuple[str, set[int] | None]] = [
        ("abc", {400}),
        (str(10**30), {413}),
        (str(20 * 1024 * 1024), {413}),
        ("-1", None),
        ("5", {400}),  # the body cut short: malformed JSON
    ]
    for length, expected in lengths:
        response = caller.call(good, headers={"CONTENT_LENGTH": length})
        assert_problem(response, f"Content-Length {length}", expected)
    assert state() == before


# --- regressions: what the review found ----------------------------------------------------------
def test_a_lone_surrogate_is_a_400_not_a_500(world, quiet_api):
    """A lone surrogate is valid JSON but no text: echoed in "Unknown field" it broke the
    renderer, stored it broke the database driver (both a 500)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(world.frontdesk)}")
    for body in (b'{"\\ud800": 1}', b'{"legal_given_name": "A\\udfffB"}', b'[["\\ud83d"]]'):
        response = client.generic("POST", "/api/v1/patients/", body, content_type="application/json")
        assert_problem(response, repr(body), {400})
        assert "surrogate" in response.json()["detail"]
    # A pair that makes one character is text like any other.
    pair = (
        b'{"legal_given_name": "\\ud83d\\ude00", "legal_family_name": "Lee", "date_of_birth": "1990-05-05", '
    )
    pair += b'"sex_at_birth": "female"}'
    response = client.generic("POST", "/api/v1/patients/", pair, content_type="application/json")
    assert response.status_code == 201 and response.json()["legal_given_name"] == "\U0001f600"


def test_each_field_must_be_sent_as_its_json_type_and_every_problem_is_named(world, quiet_api):
    """DRF stored the number 7 as the name "7", and read "true" as a boolean and "5" as a
    number: a program's bug went unnoticed. Each field's problems are listed together."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(world.frontdesk)}")
    response = client.post(
        "/api/v1/patients/",
        {"legal_given_name": 7, "legal_family_name": True, "date_of_birth": "soon", "pronouns": ["they"]},
        format="json",
    )
    assert_problem(response, "wrong types", {400})
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert errors["legal_given_name"] == errors["legal_family_name"] == "Send a string."
    assert errors["pronouns"] == "Send a string." and "date_of_birth" in errors
    assert not Patient.objects.filter(legal_given_name="7").exists()
    records = Records(world)
    session = f"/api/v1/dosing-sessions/{records.session.public_id}"
    priya = APIClient()
    priya.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(world.prescriber)}")
    for body, field in (
        ({"kind": "vitals", "systolic": "120", "diastolic": 80}, "systolic"),
        ({"kind": "moaas", "moaas": True}, "moaas"),
        (
            {"kind": "nausea_vomiting", "severity": "mild", "outcome": "resolved", "serious": "true"},
            "serious",
        ),
    ):
        url = f"{session}/{'events' if 'severity' in body else 'readings'}/"
        response = priya.post(url, body, format="json")
        assert_problem(response, repr(body), {400})
        assert field in {e["field"] for e in response.json()["errors"]}
    # A decimal may come as a number or a string, a whole number as 120.0: JSON says the same.
    assert priya.post(f"{session}/readings/", {"kind": "vitals", "systolic": 120.0, "diastolic": 80},
                      format="json").status_code == 201  # fmt: skip
    # Query strings are text: DRF's reading of them is unchanged.
    assert priya.get("/api/v1/measure-responses/?current=true").status_code == 200


def test_a_time_without_a_zone_at_the_end_of_the_calendar_is_a_400(world, quiet_api):
    """DRF's DateTimeField checks a zone-less time in the clinic's zone, and that check
    overflowed for 9999-12-31T23:59:59 (a 500)."""
    from rest_framework import serializers

    from kapflow.api import serializers as api_serializers

    records = Records(world)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(world.prescriber)}")
    response = client.post(
        f"/api/v1/dosing-sessions/{records.session.public_id}/readings/",
        {"kind": "moaas", "moaas": 4, "taken_at": "9999-12-31T23:59:59"},
        format="json",
    )
    assert_problem(response, "taken_at at the end of time", {400})
    assert response.json()["errors"][0]["field"] == "taken_at"

    def request_serializers(cls: type) -> Iterator[type]:
        subclasses: list[type] = cls.__subclasses__()
        for sub in subclasses:
            yield sub
            yield from request_serializers(sub)

    for serializer in request_serializers(api_serializers.Strict):
        for name, field in serializer().fields.items():
            if isinstance(field, serializers.DateTimeField) and not field.read_only:
                assert isinstance(field, api_serializers.DateTimeField), f"{serializer.__name__}.{name}"


def test_if_match_is_honoured_on_every_write_that_sends_it(world, quiet_api):
    """Writes that need no If-Match ignored a stale one (and recorded the reading anyway)."""
    records = Records(world)
    session = records.session
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(world.prescriber)}")
    url = f"/api/v1/dosing-sessions/{session.public_id}/readings/"
    reading = {"kind": "moaas", "moaas": 4}
    stale = f'"{session.public_id}.{session.version - 1}"'
    assert_problem(client.post(url, reading, format="json", HTTP_IF_MATCH=stale), "stale", {412})
    assert not session.readings.filter(kind="moaas").exists()
    for header in (etag(session), "*"):
        assert client.post(url, reading, format="json", HTTP_IF_MATCH=header).status_code == 201
        session.refresh_from_db()
    body = booking(records, jordan_id(records))
    assert_problem(
        client.post("/api/v1/appointments/", body, format="json", HTTP_IF_MATCH='"x.1"'), "create", {412}
    )
    assert client.post("/api/v1/appointments/", body, format="json", HTTP_IF_MATCH="*").status_code == 201


def test_an_end_time_for_a_dose_that_is_no_infusion_is_refused_not_dropped(world, quiet_api):
    """The service keeps no end for a sublingual dose: the API answered 201 and dropped it."""
    records = Records(world)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(world.prescriber)}")
    response = client.post(
        f"/api/v1/dosing-sessions/{records.session.public_id}/administrations/",
        {"dose_mg": "200", "lot_number": "LOT-A1", "ended_at": "2026-01-01T10:00:00Z"},
        format="json",
        HTTP_IF_MATCH=etag(records.session),
    )
    assert_problem(response, "ended_at of a sublingual dose", {400})
    assert response.json()["errors"][0]["field"] == "ended_at"
    assert not records.session.administrations.exists()
