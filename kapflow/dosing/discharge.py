"""Discharge: the protocol's criteria as a checklist, and when the patient was ready to leave.

Standard library only. The observation time, the last vital signs and the last MOAA/S are read
from the record; walking unaided, the escort and the no-driving instruction are confirmed by
the medical professional who signs the discharge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from kapflow.dosing import vitals
from kapflow.dosing.protocol import DischargeItem, Limit

ITEM_LABELS = {
    DischargeItem.MIN_OBSERVATION: "Minimum observation time elapsed",
    DischargeItem.VITALS_OK: "Last vital signs within the protocol's limits",
    DischargeItem.MOAAS_5: "MOAA/S 5 (responds readily to name)",
    DischargeItem.WALKS_UNAIDED: "Walks unaided",
    DischargeItem.ESCORT_PRESENT: "Escort present",
    DischargeItem.NO_DRIVING: "Told not to drive until the next day",
}


@dataclass(frozen=True)
class DischargeFacts:
    first_administered_at: datetime
    now: datetime
    min_observation_minutes: int
    last_vitals: Mapping[str, int | None] | None
    last_vitals_at: datetime | None
    last_moaas: int | None
    last_moaas_at: datetime | None
    confirmed: frozenset[DischargeItem]


@dataclass(frozen=True)
class Item:
    item: DischargeItem
    met: bool
    message: str

    @property
    def label(self) -> str:
        return ITEM_LABELS[self.item]


def observation_end(facts: DischargeFacts) -> datetime:
    return facts.first_administered_at + timedelta(minutes=facts.min_observation_minutes)


def _observation(facts: DischargeFacts) -> Item:
    end = observation_end(facts)
    if facts.now >= end:
        return Item(DischargeItem.MIN_OBSERVATION, True, f"{facts.min_observation_minutes} minutes observed.")
    left = -((facts.now - end) // timedelta(minutes=1))  # whole minutes, rounded up
    minutes = "1 more minute" if left == 1 else f"{left} more minutes"
    return Item(DischargeItem.MIN_OBSERVATION, False, f"{minutes} of observation needed.")


def _vitals(facts: DischargeFacts, limits: Mapping[str, Limit]) -> Item:
    after_dose = facts.last_vitals_at is not None and facts.last_vitals_at >= facts.first_administered_at
    if facts.last_vitals is None or not after_dose:
        return Item(DischargeItem.VITALS_OK, False, "Take vital signs before discharge.")
    found = vitals.breaches(facts.last_vitals, limits)
    if found:
        return Item(
            DischargeItem.VITALS_OK, False, " ".join(b.message for b in found) + " Repeat them later."
        )
    return Item(DischargeItem.VITALS_OK, True, "Within limits.")


def _moaas(facts: DischargeFacts) -> Item:
    if facts.last_moaas is None:
        return Item(DischargeItem.MOAAS_5, False, "Record a MOAA/S score before discharge.")
    if facts.last_moaas < 5:
        return Item(DischargeItem.MOAAS_5, False, f"The last MOAA/S is {facts.last_moaas}; it must be 5.")
    return Item(DischargeItem.MOAAS_5, True, "5.")


def checklist(
    required: frozenset[DischargeItem], facts: DischargeFacts, limits: Mapping[str, Limit]
) -> list[Item]:
    """The protocol's required items, in a fixed order, each met or not with its reason."""
    items = []
    for item in DischargeItem:
        if item not in required:
            continue
        if item == DischargeItem.MIN_OBSERVATION:
            items.append(_observation(facts))
        elif item == DischargeItem.VITALS_OK:
            items.append(_vitals(facts, limits))
        elif item == DischargeItem.MOAAS_5:
            items.append(_moaas(facts))
        else:
            met = item in facts.confirmed
            items.append(Item(item, met, "Confirmed." if met else "Confirm before signing."))
    return items


def ready_at(facts: DischargeFacts) -> datetime:
    """When the patient could have left: the end of the minimum observation, or the later of
    the last vitals and MOAA/S that made the checklist pass (Spravato REMS records this)."""
    moments = [observation_end(facts)]
    moments += [m for m in (facts.last_vitals_at, facts.last_moaas_at) if m is not None]
    return max(moments)
