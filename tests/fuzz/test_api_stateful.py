"""Schemathesis' stateful run over the API, as every staff role: sequences of calls that follow
the OpenAPI links the schema publishes (kapflow/api/schema.py ``resource_links``: a list to its
first record, a record, read or just created, to each action on it with its ETag in
``If-Match``, an action back to its record, a record to the records it names and to the lists
filtered by it).

Each scenario starts from a list or a create (the front desk's new patient, a booking, a
questionnaire assignment) in Jordan's world (tests/api/api_world.py) and runs inside a
savepoint that is rolled back, so scenarios do not pile up records. Every answer is checked as
in the stateless run (no 5xx; status, content type and body as declared), and so are the
stateful rules: a record just created is found by the links that lead to it
(``ensure_resource_availability``) and nothing deleted answers again (``use_after_free``).
Scenarios per role: ``KAPFLOW_FUZZ_EXAMPLES`` (a few in the suite, 100 in ``bench/fuzz.py``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
import schemathesis
from django.core.cache import cache
from django.db import transaction
from django.db.transaction import savepoint, savepoint_rollback
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import ensure_resource_availability, use_after_free

from tests.api.helpers import token_for
from tests.api.test_schemathesis import (
    CHECKS,
    KNOWN,
    ROLES,
    calling_the_app_in_process,
    flatmap_body,
    openapi,
    schema,
)
from tests.fuzz import tally

STATEFUL_CHECKS = [*CHECKS, ensure_resource_availability, use_after_free]
SCENARIOS_PER_ROLE = tally.examples(default=4)
STEPS_PER_SCENARIO = 10

stateful = schemathesis.openapi.from_dict(openapi())
stateful.app = schema.app
stateful.hook(flatmap_body)  # a body a clinician would send, some of the time


@stateful.hook("flatmap_query")
def lists_with_records(context: Any, query: dict[str, Any] | None) -> Any:
    """A list unfiltered, or filtered by Jordan, as often as with random filters: its first record
    is what the links lead on to (random filters mostly find nothing)."""
    if not isinstance(query, dict) or not KNOWN.get("patients"):
        return st.just(query)
    options = [query, {}]
    if any(parameter.name == "patient" for parameter in context.operation.iter_parameters()):
        options.append({"patient": KNOWN["patients"][0]})
    return st.sampled_from(options)


class Workflow(stateful.as_state_machine()):  # type: ignore[misc]
    role: ClassVar[str]
    token: ClassVar[str]

    def setup(self) -> None:
        self._savepoint = savepoint()
        cache.clear()  # the token's request budget, per scenario

    def teardown(self) -> None:
        savepoint_rollback(self._savepoint)

    def get_call_kwargs(self, case: Any) -> dict[str, Any]:
        return {"headers": {"Authorization": f"Bearer {self.token}"}}

    def after_call(self, response: Any, case: Any) -> None:
        super().after_call(response, case)
        tally.case("api-stateful", case.operation.label, self.role, response.status_code)

    def validate_response(
        self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
    ) -> None:
        try:
            case.validate_response(
                response,
                checks=STATEFUL_CHECKS,
                headers=kwargs.get("headers"),
                transport_kwargs=kwargs or None,
                recorder=self.recorder,
            )
        except Exception:
            if response.status_code < 500:
                tally.failure("api-stateful", case.operation.label, self.role, "violations")
            raise


def test_the_schema_links_every_operation():
    """Each operation is reached by a link or starts a scenario, so the stateful run covers it."""
    transitions: Any = getattr(stateful.as_state_machine(), "_transitions")  # noqa: B009 - what the links connect
    linked = {label for label, entry in transitions.operations.items() if entry.incoming or entry.outgoing}
    assert sorted(set(labels()) - linked) == [], "give these operations links (kapflow/api/schema.py)"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_role_follows_the_links_and_every_answer_is_as_the_schema_says(world, settings, role):
    with calling_the_app_in_process(world, settings), transaction.atomic():
        machine = type(
            f"Workflow_{role}", (Workflow,), {"role": role, "token": token_for(world.member(role))}
        )
        machine.run(  # type: ignore[attr-defined]
            settings=hypothesis_settings(
                max_examples=SCENARIOS_PER_ROLE,
                stateful_step_count=STEPS_PER_SCENARIO,
                derandomize=True,
                deadline=None,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
        )
        run = sum(tally.counted("api-stateful", label, role) for label in labels())
        assert run >= SCENARIOS_PER_ROLE, "every scenario calls the API at least once"


def labels() -> list[str]:
    return [result.ok().label for result in stateful.get_all_operations() if isinstance(result, Ok)]
