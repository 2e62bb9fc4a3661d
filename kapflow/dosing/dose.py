"""Dose checks: a dose against the protocol's range and the session's cumulative maximum.

Standard library only. Doses are milligrams (Decimal); for a mg/kg protocol the range and the
maximum are per kilogram of the recorded weight. A dose of zero or one beyond any protocol
(``ABSOLUTE_MAX_MG``) is a typing error and is always refused. Outside the range, or beyond
the cumulative maximum, a dose passes only if the protocol allows an override and a reason
is given. The first administration must lie in the range; a booster only adds to the total.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from kapflow.dosing.protocol import ABSOLUTE_MAX_MG, Protocol


@dataclass(frozen=True)
class DoseFacts:
    dose_mg: Decimal
    weight_kg: Decimal | None
    given_mg: Decimal  # already given in this session
    booster: bool
    override_reason: str = ""


@dataclass(frozen=True)
class DoseCheck:
    allowed: bool
    problems: tuple[str, ...]  # refusals, or what the override covers
    mg_per_kg: Decimal | None
    total_mg: Decimal
    needs_override: bool  # outside the protocol but overridable: a reason makes it pass

    @property
    def overridden(self) -> bool:
        return self.allowed and self.needs_override


def per_kg(mg: Decimal, weight_kg: Decimal) -> Decimal:
    return (mg / weight_kg).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def _unit(protocol: Protocol) -> str:
    return "mg/kg" if protocol.per_kg else "mg"


def _shown(value: Decimal) -> str:
    """At most three decimals, without trailing zeros: 450, 0.5, 0.714."""
    text = format(value.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def check_dose(protocol: Protocol, facts: DoseFacts) -> DoseCheck:
    dose = facts.dose_mg
    if not dose.is_finite():  # NaN or Infinity: a signalling NaN would raise in any arithmetic
        return DoseCheck(False, ("The dose must be a number of milligrams.",), None, facts.given_mg, False)
    total = facts.given_mg + dose
    if dose <= 0:
        return DoseCheck(False, ("The dose must be more than 0 mg.",), None, total, False)
    if dose > ABSOLUTE_MAX_MG:
        message = f"{dose} mg is beyond any protocol (over {ABSOLUTE_MAX_MG} mg); check the number."
        return DoseCheck(False, (message,), None, total, False)
    ratio = None
    if protocol.per_kg:
        if facts.weight_kg is None or not facts.weight_kg.is_finite() or facts.weight_kg <= 0:
            return DoseCheck(
                False, ("Record the patient's weight: the protocol doses per kilogram.",), None, total, False
            )
        ratio = per_kg(dose, facts.weight_kg)
    # Compared unrounded, so a dose a hair over the range does not pass by rounding; shown rounded.
    amount = dose / facts.weight_kg if protocol.per_kg and facts.weight_kg else dose
    running = total / facts.weight_kg if protocol.per_kg and facts.weight_kg else total
    unit = _unit(protocol)
    outside = []
    if not facts.booster and not protocol.dose_min <= amount <= protocol.dose_max:
        outside.append(
            f"{_shown(amount)} {unit} is outside the protocol's range of {protocol.dose_min}-{protocol.dose_max} {unit}."
        )
    if running > protocol.max_cumulative:
        outside.append(
            f"The session total would be {_shown(running)} {unit}, above the protocol's maximum of "
            f"{protocol.max_cumulative} {unit} (boosters included)."
        )
    if not outside:
        return DoseCheck(True, (), ratio, total, False)
    if not protocol.dose_override_allowed:
        outside.append("The protocol does not allow an override.")
        return DoseCheck(False, tuple(outside), ratio, total, False)
    if not facts.override_reason.strip():
        outside.append("The protocol allows an override only with a written reason.")
        return DoseCheck(False, tuple(outside), ratio, total, True)
    return DoseCheck(True, tuple(outside), ratio, total, True)
