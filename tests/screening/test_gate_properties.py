"""check() agrees with an independent statement of the gate for any facts."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from kapflow.screening.gate import ConsentFacts, DecisionFacts, GateFacts, Outcome, Reason, check

ROUTES = ["im", "iv", "sublingual", "intranasal", "oral"]
DAYS = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))

decisions = st.one_of(
    st.none(),
    st.builds(
        DecisionFacts,
        outcome=st.sampled_from(list(Outcome)),
        valid_until=st.one_of(st.none(), DAYS),
        routes=st.frozensets(st.sampled_from(ROUTES)),
    ),
)
consents = st.one_of(
    st.none(),
    st.builds(
        ConsentFacts,
        signed_version=st.integers(1, 5),
        current_version=st.integers(1, 5),
        withdrawn=st.booleans(),
    ),
)
gate_facts = st.builds(
    GateFacts,
    decision=decisions,
    consent=consents,
    on=DAYS,
    route=st.one_of(st.none(), st.sampled_from(ROUTES)),
)


def expected_reasons(facts: GateFacts) -> set[Reason]:
    """The gate, stated again from the issue, one condition per reason."""
    found = set()
    d, c = facts.decision, facts.consent
    if d is None:
        found.add(Reason.NO_DECISION)
    if d is not None and d.outcome is Outcome.NOT_ELIGIBLE:
        found.add(Reason.NOT_ELIGIBLE)
    if d is not None and d.outcome is Outcome.MORE_INFO:
        found.add(Reason.MORE_INFO)
    if (
        d is not None
        and d.outcome is Outcome.ELIGIBLE
        and (d.valid_until is None or facts.on > d.valid_until)
    ):
        found.add(Reason.DECISION_EXPIRED)
    if d is not None and d.outcome is Outcome.ELIGIBLE and facts.route and facts.route not in d.routes:
        found.add(Reason.ROUTE_NOT_ALLOWED)
    if c is None:
        found.add(Reason.NO_CONSENT)
    if c is not None and c.withdrawn:
        found.add(Reason.CONSENT_WITHDRAWN)
    if c is not None and c.signed_version < c.current_version:
        found.add(Reason.CONSENT_OUTDATED)
    return found


@given(gate_facts)
def test_the_reasons_are_exactly_the_expected_ones(facts):
    result = check(facts)
    assert {b.reason for b in result.blockers} == expected_reasons(facts)
    assert result.ready == (not result.blockers)
    assert len(result.blockers) == len({b.reason for b in result.blockers})
    assert all(b.message.strip() for b in result.blockers)


@given(gate_facts)
def test_blockers_follow_the_order_of_the_reasons(facts):
    order = list(Reason)
    positions = [order.index(b.reason) for b in check(facts).blockers]
    assert positions == sorted(positions)


@given(st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 30)), st.integers(-30, 30))
def test_an_eligible_decision_is_valid_through_its_last_day(valid_until, offset):
    decision = DecisionFacts(Outcome.ELIGIBLE, valid_until=valid_until, routes=frozenset({"im"}))
    consent = ConsentFacts(signed_version=1, current_version=1, withdrawn=False)
    result = check(GateFacts(decision, consent, on=valid_until + timedelta(days=offset), route="im"))
    assert result.ready == (offset <= 0)
