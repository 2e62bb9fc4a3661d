"""check(): may the patient be booked for, or start, a dosing session, and every reason why not."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from kapflow.screening.gate import (
    Blocker,
    ConsentFacts,
    DecisionFacts,
    GateFacts,
    GateResult,
    Outcome,
    Reason,
    check,
)

TODAY = date(2026, 6, 15)
ELIGIBLE = DecisionFacts(
    Outcome.ELIGIBLE, valid_until=date(2026, 12, 1), routes=frozenset({"im", "sublingual"})
)
SIGNED = ConsentFacts(signed_version=3, current_version=3, withdrawn=False)
READY = GateFacts(decision=ELIGIBLE, consent=SIGNED, on=TODAY, route="im")


def reasons(result: GateResult) -> list[Reason]:
    return [blocker.reason for blocker in result.blockers]


def test_eligible_with_current_consent_is_ready():
    assert check(READY) == GateResult(ready=True, blockers=())


def test_reason_values_are_snake_case():
    assert [r.value for r in Reason] == [
        "no_decision",
        "not_eligible",
        "more_info",
        "decision_expired",
        "route_not_allowed",
        "no_consent",
        "consent_outdated",
        "consent_withdrawn",
        "preparation_incomplete",
    ]
    assert [o.value for o in Outcome] == ["eligible", "not_eligible", "more_info"]


@pytest.mark.parametrize(
    ("facts", "reason", "message"),
    [
        (
            replace(READY, decision=None),
            Reason.NO_DECISION,
            "No eligibility decision has been recorded; a prescriber must review the screening and decide.",
        ),
        (
            replace(READY, decision=DecisionFacts(Outcome.NOT_ELIGIBLE, None, frozenset())),
            Reason.NOT_ELIGIBLE,
            "A prescriber decided that the patient is not eligible.",
        ),
        (
            replace(READY, decision=DecisionFacts(Outcome.MORE_INFO, None, frozenset())),
            Reason.MORE_INFO,
            "A prescriber asked for more information before deciding eligibility.",
        ),
        (
            replace(READY, on=date(2026, 12, 2)),
            Reason.DECISION_EXPIRED,
            "The eligibility decision was valid until 2026-12-01 and has expired; a prescriber must decide again.",
        ),
        (
            replace(READY, route="iv"),
            Reason.ROUTE_NOT_ALLOWED,
            "The eligibility decision does not allow the route 'iv' (allowed: im, sublingual).",
        ),
        (replace(READY, consent=None), Reason.NO_CONSENT, "The patient has not signed informed consent."),
        (
            replace(READY, consent=replace(SIGNED, signed_version=2)),
            Reason.CONSENT_OUTDATED,
            "The patient signed consent version 2, but the current version is 3; they must read and sign it again.",
        ),
        (
            replace(READY, consent=replace(SIGNED, withdrawn=True)),
            Reason.CONSENT_WITHDRAWN,
            "The patient withdrew consent; there is no further dosing until they consent again.",
        ),
    ],
)
def test_each_reason_alone(facts, reason, message):
    assert check(facts) == GateResult(ready=False, blockers=(Blocker(reason, message),))


def test_the_decision_is_valid_on_its_last_day_and_expired_the_day_after():
    last_day = ELIGIBLE.valid_until
    assert last_day is not None
    assert check(replace(READY, on=last_day - timedelta(days=1))).ready
    assert check(replace(READY, on=last_day)).ready
    assert reasons(check(replace(READY, on=last_day + timedelta(days=1)))) == [Reason.DECISION_EXPIRED]


def test_an_eligible_decision_without_an_end_date_fails_closed():
    result = check(replace(READY, decision=replace(ELIGIBLE, valid_until=None)))
    assert result == GateResult(
        ready=False,
        blockers=(
            Blocker(
                Reason.DECISION_EXPIRED,
                "The eligibility decision has no end date; a prescriber must decide again.",
            ),
        ),
    )


def test_no_route_means_the_route_is_not_checked():
    assert check(replace(READY, route=None)).ready
    no_routes = replace(READY, decision=replace(ELIGIBLE, routes=frozenset()), route=None)
    assert check(no_routes).ready


def test_each_allowed_route_passes_and_others_do_not():
    assert check(replace(READY, route="im")).ready
    assert check(replace(READY, route="sublingual")).ready
    assert reasons(check(replace(READY, route="IM"))) == [Reason.ROUTE_NOT_ALLOWED]


def test_a_decision_allowing_no_route_says_so():
    result = check(replace(READY, decision=replace(ELIGIBLE, routes=frozenset()), route="im"))
    assert (
        result.blockers[0].message
        == "The eligibility decision does not allow the route 'im' (allowed: none)."
    )


def test_a_newer_signed_version_than_current_is_not_outdated():
    assert check(replace(READY, consent=replace(SIGNED, signed_version=4))).ready


def test_expiry_and_route_only_apply_to_an_eligible_decision():
    for outcome, reason in (
        (Outcome.NOT_ELIGIBLE, Reason.NOT_ELIGIBLE),
        (Outcome.MORE_INFO, Reason.MORE_INFO),
    ):
        decision = DecisionFacts(outcome, valid_until=date(2020, 1, 1), routes=frozenset())
        assert reasons(check(replace(READY, decision=decision, route="im"))) == [reason]


def test_all_blockers_are_listed_in_order():
    facts = GateFacts(
        decision=replace(ELIGIBLE, valid_until=date(2026, 1, 1)),
        consent=ConsentFacts(signed_version=1, current_version=2, withdrawn=True),
        on=TODAY,
        route="iv",
    )
    assert reasons(check(facts)) == [
        Reason.DECISION_EXPIRED,
        Reason.ROUTE_NOT_ALLOWED,
        Reason.CONSENT_OUTDATED,
        Reason.CONSENT_WITHDRAWN,
    ]
    assert not check(facts).ready


def test_no_decision_and_no_consent_are_both_listed():
    result = check(GateFacts(decision=None, consent=None, on=TODAY))
    assert reasons(result) == [Reason.NO_DECISION, Reason.NO_CONSENT]
    assert result.reasons == frozenset({Reason.NO_DECISION, Reason.NO_CONSENT})


def test_withdrawal_flips_a_ready_patient():
    assert check(READY).ready
    assert not check(replace(READY, consent=replace(SIGNED, withdrawn=True))).ready
