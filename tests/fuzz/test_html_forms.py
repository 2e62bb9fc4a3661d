"""Random and hostile values posted into every HTML form of the project: never a 500, and a form
that refuses the data (shown again with 200, or a 4xx) leaves the database as it was.

The forms are the rows of the authorization matrix (tests/test_authorization_matrix.py) that
post ``data``: a new form gets its row there and is fuzzed here with no further work. Each is
posted by the first persona the matrix lets use it (as the matrix's own test picks), by the
patient too when the patient may (the portal's forms), and by an anonymous visitor when anyone
may (the public contact form, accepting a portal invitation).

Each example starts from the row's data, which the matrix shows would be accepted, and spoils
one to three of its fields, each replaced by a hostile value (empty, 100,000 characters, NUL
bytes, lone surrogates, right-to-left and zero-width characters, HTML and script, SQL-ish text,
huge, negative and fractional numbers, 2**70, NaN, impossible dates and times, a list where one
value goes) or left out, and sometimes adds a field the form does not know. The body is sent
as a browser sends a form (``application/x-www-form-urlencoded``, UTF-8; a lone surrogate goes
as the bytes a broken client would send). Each example runs in a savepoint that is rolled back,
so an accepted post does not change the scene for the next one.

Examples per form: ``KAPFLOW_FUZZ_EXAMPLES`` (a few in the suite, 100 in ``bench/fuzz.py``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus

import pytest
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from kapflow.dosing import protocols
from kapflow.scheduling.services import types_for
from kapflow.screening.models import Route as DosingRoute
from tests.fuzz import tally
from tests.test_authorization_matrix import (
    ALLOWED,
    MATRIX,
    PERSONAS,
    Route,
    client_for,
    domain_state,
)

EXAMPLES_PER_FORM = tally.examples(default=5)
FORM = "application/x-www-form-urlencoded"

LONG = "x" * 100_000
TEXT = [
    "",
    " ",
    "\t\n",
    LONG,
    "a\x00b",
    "\x00",
    "\ud800",  # a lone surrogate: no UTF-8 text
    "a\udfffb",
    "\u202egnp.exe",  # right-to-left override
    "\u200b\u200d\ufeff",  # zero-width
    "Z\u0351\u0308\u0327a\u0336l\u0337g\u0338o",
    "\U0001f9ea\U0001f48a",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7*7 }}{% debug %}",
    "' OR '1'='1",
    "'; DROP TABLE patients_patient; --",
    "%s%n%x",
    "../../../../etc/passwd",
    "null",
    "true",
    "[]",
    "{}",
]
NUMBERS = [
    "0",
    "-0",
    "-1",
    "0.5",
    "-99999999999",
    str(2**31),
    str(2**63),
    str(2**70),
    str(-(2**70)),
    "9" * 400,
    "1e309",
    "1e-999",
    "NaN",
    "Infinity",
    "-Infinity",
    "0x1A",
    "1_000",
    "\u0661\u0662\u0663",  # Arabic-Indic digits
]
DATES = [
    "0000-01-01",
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "2026-13-01",
    "2026-02-29",
    "31/12/2026",
    "2026-01-01T25:61",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
]
TIMES = ["25:61", "24:00", "23:59:60", "-01:00", "12:00 PM", "T10", "10:00+05:00", "99"]

SCALAR = st.one_of(
    st.sampled_from(TEXT + NUMBERS + DATES + TIMES),
    st.text(max_size=40),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.floats().map(str),
)
HOSTILE = st.one_of(SCALAR, st.lists(SCALAR, min_size=2, max_size=3))  # a list where one value goes
LEFT_OUT = object()
HYPOTHESIS = hypothesis_settings(
    max_examples=EXAMPLES_PER_FORM,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def clinic_defaults(world: Any) -> None:
    """A clinic's defaults are written the first time they are read (its appointment types, the
    example protocol of each route as version 1): read them first, so that a refused post that
    happens to be their first reader is not taken for a half-write."""
    for route in DosingRoute.values:
        protocols.current(world.demo, route)
    types_for(world.demo)


def posters(route: Route) -> list[str]:
    """Who fuzzes a form: the first persona allowed to use it (as the matrix's own test picks),
    the patient when the patient may, and an anonymous visitor when anyone may."""
    allowed = [p for p, status in zip(PERSONAS, route.get, strict=True) if status in ALLOWED]
    staff = [p for p in allowed if p != "anonymous"]
    chosen = staff[:1]
    if "patient" in staff and "patient" not in chosen:
        chosen.append("patient")
    if "anonymous" in allowed:
        chosen.append("anonymous")
    return chosen


FORMS = sorted(name for name, route in MATRIX.items() if route.data is not None)
CASES = [(name, persona) for name in FORMS for persona in posters(MATRIX[name])]


@st.composite
def spoiled(draw: st.DrawFn, valid: dict[str, Any]) -> dict[str, Any]:
    """The valid data with one to three fields spoiled (a hostile value, or left out) and,
    sometimes, a field the form does not know."""
    data: dict[str, Any] = dict(valid)
    names = sorted(valid)
    if names:
        for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True)):
            data[name] = draw(st.one_of(HOSTILE, st.just(LEFT_OUT)) if len(names) > 1 else HOSTILE)
    if not names or draw(st.integers(0, 4)) == 0:
        data[draw(st.sampled_from(["id", "pk", "patient", "clinic", "status", "author", "__proto__"]))] = (
            draw(HOSTILE)
        )
    return {name: value for name, value in data.items() if value is not LEFT_OUT}


def encoded(data: dict[str, Any]) -> bytes:
    """The body a browser (or a broken client: lone surrogates as their bytes) would send."""

    def quoted(value: Any) -> str:
        return quote_plus(str(value).encode("utf-8", "surrogatepass"))

    pairs = [
        f"{quoted(name)}={quoted(item)}"
        for name, value in data.items()
        for item in (value if isinstance(value, list | tuple) else [value])
    ]
    return "&".join(pairs).encode("ascii")


def test_every_form_of_the_matrix_is_fuzzed():
    """Every matrix row that posts data has someone to fuzz it, and the portal's forms the patient."""
    assert FORMS and {name for name, _ in CASES} == set(FORMS)
    portal = [name for name in FORMS if MATRIX[name].get[PERSONAS.index("patient")] in ALLOWED]
    assert portal and all((name, "patient") in CASES for name in portal)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "persona"), CASES)
def test_hostile_values_in_a_form_never_answer_500_nor_half_write(
    world, portal_user, settings, name, persona
):
    settings.KAPFLOW_PUBLIC_CLINIC = "demo"
    route = MATRIX[name]
    path = reverse(name, kwargs=route.kwargs(world))
    assert route.data is not None
    valid = route.data(world)
    client = client_for(world, persona)
    clinic_defaults(world)
    client.get(path)  # the form as loaded
    before = domain_state()

    @HYPOTHESIS
    @given(data=spoiled(valid))
    def post(data: dict[str, Any]) -> None:
        cache.clear()  # rate limits count per example, not across them
        with transaction.atomic():
            try:
                response = client.generic("POST", path, encoded(data), content_type=FORM)
            except Exception as exc:  # the test client re-raises what the view raised
                tally.case("forms", name, persona, 500)
                pytest.fail(f"{persona} POST {path} raised {exc!r} with {shown(data)}")
            status = response.status_code
            tally.case("forms", name, persona, status)
            assert status < 500, f"{persona} POST {path}: {status} with {shown(data)}"
            refused = status == 200 or 400 <= status < 500  # shown again, or refused
            if refused and domain_state() != before:
                tally.failure("forms", name, persona, "half_written")
                pytest.fail(f"{persona} POST {path}: {status} but the database changed, with {shown(data)}")
            transaction.set_rollback(True)

    with tally.flushed():
        post()
        assert tally.counted("forms", name, persona) >= 1


def shown(data: dict[str, Any]) -> str:
    """The data, with very long values cut, for a failure message."""
    return repr(
        {
            k: (f"{v[:40]}... ({len(v)} characters)" if isinstance(v, str) and len(v) > 80 else v)
            for k, v in data.items()
        }
    )
