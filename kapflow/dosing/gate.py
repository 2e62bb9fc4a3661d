"""The pre-dose gate: may the first dose of this session be given, and why not.

Standard library only (no Django). It adds the session's own checks to the screening gate
(eligibility, consent, preparation): pre-dose vitals within the protocol's limits, a recent
weight for a mg/kg protocol, pre-dose questionnaires done, no open high-risk safety alert,
fasting, escort and intentions confirmed, a pregnancy test where the protocol needs one.

Every check is listed with its state and reason. A caution passes only with a written
override; a hard stop passes only if the protocol allows overriding it and a reason is given;
a missing confirmation or a screening blocker never passes by override.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from kapflow.dosing import vitals
from kapflow.dosing.protocol import Protocol


class State(StrEnum):
    OK = "ok"
    CAUTION = "caution"
    BLOCKED = "blocked"


class Check(StrEnum):
    SCREENING = "screening"
    VITALS = "vitals"
    WEIGHT = "weight"
    MEASURES = "measures"
    SAFETY_ALERT = "safety_alert"
    FASTING = "fasting"
    ESCORT = "escort"
    INTENTIONS = "intentions"
    PREGNANCY = "pregnancy"


CHECK_LABELS = {
    Check.SCREENING: "Eligibility, consent and preparation",
    Check.VITALS: "Pre-dose vital signs",
    Check.WEIGHT: "Weight for a mg/kg dose",
    Check.MEASURES: "Pre-dose questionnaires",
    Check.SAFETY_ALERT: "No open high-risk safety alert",
    Check.FASTING: "Fasting",
    Check.ESCORT: "Escort home",
    Check.INTENTIONS: "Intentions reviewed",
    Check.PREGNANCY: "Pregnancy test",
}


class Pregnancy(StrEnum):
    NOT_DONE = "not_done"
    NEGATIVE = "negative"
    POSITIVE = "positive"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class PredoseFacts:
    screening_blockers: tuple[str, ...]
    vitals: Mapping[str, int | None] | None
    weight_kg: Decimal | None
    weight_age_days: int | None
    measures_outstanding: tuple[str, ...]
    open_high_alert: bool
    fasting_confirmed: bool
    escort_confirmed: bool
    intentions_reviewed: bool
    pregnancy: Pregnancy
    overrides: Mapping[str, str]


@dataclass(frozen=True)
class CheckResult:
    check: Check
    state: State
    message: str
    overridable: bool
    overridden: str = ""  # the override reason, when one was given

    @property
    def label(self) -> str:
        return CHECK_LABELS[self.check]

    @property
    def passes(self) -> bool:
        return self.state == State.OK or (self.overridable and bool(self.overridden))


@dataclass(frozen=True)
class GateResult:
    checks: tuple[CheckResult, ...]

    @property
    def may_administer(self) -> bool:
        return all(check.passes for check in self.checks)

    @property
    def failing(self) -> tuple[CheckResult, ...]:
        return tuple(check for check in self.checks if not check.passes)


def _ok(check: Check, message: str) -> tuple[Check, State, str, bool]:
    return (check, State.OK, message, False)


def _vitals(protocol: Protocol, reading: Mapping[str, int | None] | None) -> tuple[Check, State, str, bool]:
    if reading is None or reading.get("systolic") is None or reading.get("diastolic") is None:
        return (Check.VITALS, State.BLOCKED, "Record pre-dose vital signs (at least blood pressure).", False)
    found = vitals.breaches(reading, protocol.before)
    level = vitals.worst(found)
    if level == vitals.Level.OK:
        return _ok(Check.VITALS, "Within the protocol's pre-dose limits.")
    message = " ".join(b.message for b in found)
    if level == vitals.Level.HARD_STOP:
        if protocol.hard_stop_overridable:
            return (Check.VITALS, State.BLOCKED, message + " The protocol allows a written override.", True)
        return (Check.VITALS, State.BLOCKED, message + " The protocol does not allow dosing.", False)
    return (Check.VITALS, State.CAUTION, message + " A medical professional may proceed with a reason.", True)


def _weight(protocol: Protocol, facts: PredoseFacts) -> tuple[Check, State, str, bool] | None:
    if not protocol.per_kg:
        return None
    if facts.weight_kg is None or facts.weight_age_days is None:
        return (Check.WEIGHT, State.BLOCKED, "Record the patient's weight: the dose is per kilogram.", False)
    if facts.weight_age_days > protocol.weight_valid_days:
        message = (
            f"The last weight is {facts.weight_age_days} days old; the protocol accepts "
            f"{protocol.weight_valid_days} days. Weigh the patient again."
        )
        return (Check.WEIGHT, State.BLOCKED, message, False)
    return _ok(Check.WEIGHT, f"{facts.weight_kg} kg, {facts.weight_age_days} days old.")


def _confirmation(check: Check, confirmed: bool, missing: str, done: str) -> tuple[Check, State, str, bool]:
    return _ok(check, done) if confirmed else (check, State.BLOCKED, missing, False)


def check(protocol: Protocol, facts: PredoseFacts) -> GateResult:
    rows: list[tuple[Check, State, str, bool] | None] = [
        (Check.SCREENING, State.BLOCKED, " ".join(facts.screening_blockers), False)
        if facts.screening_blockers
        else _ok(Check.SCREENING, "Eligible, consent current, preparation done."),
        _vitals(protocol, facts.vitals),
        _weight(protocol, facts),
        (
            Check.MEASURES,
            State.BLOCKED,
            "Still to be completed before dosing: " + ", ".join(facts.measures_outstanding) + ".",
            False,
        )
        if facts.measures_outstanding
        else _ok(Check.MEASURES, "None outstanding."),
        (
            Check.SAFETY_ALERT,
            State.BLOCKED,
            "A high-risk safety alert is open: record the action taken before dosing.",
            False,
        )
        if facts.open_high_alert
        else _ok(Check.SAFETY_ALERT, "None open."),
        _confirmation(
            Check.FASTING,
            facts.fasting_confirmed,
            f"Confirm fasting: no food for {protocol.fasting_food_hours} h and no liquids for "
            f"{protocol.fasting_liquid_minutes} min.",
            "Confirmed.",
        ),
        _confirmation(
            Check.ESCORT, facts.escort_confirmed, "Confirm who takes the patient home.", "Confirmed."
        ),
        _confirmation(
            Check.INTENTIONS,
            facts.intentions_reviewed,
            "Review the patient's intentions with them.",
            "Reviewed.",
        ),
        _pregnancy(protocol, facts.pregnancy),
    ]
    results = []
    for row in rows:
        if row is None:
            continue
        name, state, message, overridable = row
        reason = facts.overrides.get(str(name), "").strip() if overridable else ""
        results.append(CheckResult(name, state, message, overridable, reason))
    return GateResult(tuple(results))


def _pregnancy(protocol: Protocol, result: Pregnancy) -> tuple[Check, State, str, bool] | None:
    if not protocol.pregnancy_test_required:
        return None
    if result == Pregnancy.POSITIVE:
        return (Check.PREGNANCY, State.BLOCKED, "The pregnancy test is positive: no dosing.", False)
    if result == Pregnancy.NOT_DONE:
        return (Check.PREGNANCY, State.BLOCKED, "The protocol needs a pregnancy test result today.", False)
    return _ok(Check.PREGNANCY, "Negative." if result == Pregnancy.NEGATIVE else "Not applicable.")
