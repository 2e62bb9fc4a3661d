"""The dosing gate: may this patient be booked for, or start, a dosing session, and why not.

Standard library only (no Django). Scheduling and dosing call `check`; every applicable
blocker is listed, not only the first, so staff see everything that must be done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Outcome(StrEnum):
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    MORE_INFO = "more_info"


@dataclass(frozen=True)
class DecisionFacts:
    outcome: Outcome
    valid_until: date | None
    routes: frozenset[str]


@dataclass(frozen=True)
class ConsentFacts:
    signed_version: int
    current_version: int
    withdrawn: bool


@dataclass(frozen=True)
class GateFacts:
    decision: DecisionFacts | None
    consent: ConsentFacts | None
    on: date
    route: str | None = None
    # Signed preparation visits of the patient's open course (None: no open course, not checked).
    preparation_done: int | None = None
    preparation_required: int = 0


class Reason(StrEnum):
    NO_DECISION = "no_decision"
    NOT_ELIGIBLE = "not_eligible"
    MORE_INFO = "more_info"
    DECISION_EXPIRED = "decision_expired"
    ROUTE_NOT_ALLOWED = "route_not_allowed"
    NO_CONSENT = "no_consent"
    CONSENT_OUTDATED = "consent_outdated"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    PREPARATION_INCOMPLETE = "preparation_incomplete"


@dataclass(frozen=True)
class Blocker:
    reason: Reason
    message: str


@dataclass(frozen=True)
class GateResult:
    ready: bool
    blockers: tuple[Blocker, ...]

    @property
    def reasons(self) -> frozenset[Reason]:
        return frozenset(blocker.reason for blocker in self.blockers)


def _decision_blockers(decision: DecisionFacts | None, on: date, route: str | None) -> list[Blocker]:
    if decision is None:
        message = (
            "No eligibility decision has been recorded; a prescriber must review the screening and decide."
        )
        return [Blocker(Reason.NO_DECISION, message)]
    if decision.outcome == Outcome.NOT_ELIGIBLE:
        return [Blocker(Reason.NOT_ELIGIBLE, "A prescriber decided that the patient is not eligible.")]
    if decision.outcome == Outcome.MORE_INFO:
        message = "A prescriber asked for more information before deciding eligibility."
        return [Blocker(Reason.MORE_INFO, message)]
    blockers = []
    if decision.valid_until is None:
        # Fail closed: an eligible decision always carries an end date.
        message = "The eligibility decision has no end date; a prescriber must decide again."
        blockers.append(Blocker(Reason.DECISION_EXPIRED, message))
    elif decision.valid_until < on:
        message = (
            f"The eligibility decision was valid until {decision.valid_until.isoformat()} and has expired; "
            "a prescriber must decide again."
        )
        blockers.append(Blocker(Reason.DECISION_EXPIRED, message))
    if route is not None and route not in decision.routes:
        allowed = ", ".join(sorted(decision.routes)) or "none"
        message = f"The eligibility decision does not allow the route '{route}' (allowed: {allowed})."
        blockers.append(Blocker(Reason.ROUTE_NOT_ALLOWED, message))
    return blockers


def _consent_blockers(consent: ConsentFacts | None) -> list[Blocker]:
    if consent is None:
        return [Blocker(Reason.NO_CONSENT, "The patient has not signed informed consent.")]
    blockers = []
    if consent.signed_version < consent.current_version:
        message = (
            f"The patient signed consent version {consent.signed_version}, but the current version is "
            f"{consent.current_version}; they must read and sign it again."
        )
        blockers.append(Blocker(Reason.CONSENT_OUTDATED, message))
    if consent.withdrawn:
        message = "The patient withdrew consent; there is no further dosing until they consent again."
        blockers.append(Blocker(Reason.CONSENT_WITHDRAWN, message))
    return blockers


def _preparation_blockers(done: int | None, required: int) -> list[Blocker]:
    if done is None or done >= required:
        return []
    missing = required - done
    visits = "visit" if required == 1 else "visits"
    more = "1 more is" if missing == 1 else f"{missing} more are"
    message = (
        f"{done} of {required} preparation {visits} done; {more} needed before the first dosing session."
    )
    return [Blocker(Reason.PREPARATION_INCOMPLETE, message)]


def check(facts: GateFacts) -> GateResult:
    """Ready iff nothing blocks; decision blockers come first, then consent, then preparation."""
    blockers = (
        _decision_blockers(facts.decision, facts.on, facts.route)
        + _consent_blockers(facts.consent)
        + _preparation_blockers(facts.preparation_done, facts.preparation_required)
    )
    return GateResult(ready=not blockers, blockers=tuple(blockers))
