"""Dosing protocols per route: dose rule, cumulative maximum, monitoring schedule, vital-sign
thresholds, observation time, discharge criteria and pre-dose requirements.

Standard library only (no Django). A clinic's protocol is stored as JSON (one version per
save); ``parse`` checks it and names every problem. The shipped ``EXAMPLES`` are examples for
the medical director to set, never advice; each value carries its source from
../shared/docs/DOMAIN.md, or says "clinic setting" where the literature gives no number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

EXAMPLE_LABEL = "Example: set by your medical director"


class DoseUnit(StrEnum):
    MG = "mg"
    MG_PER_KG = "mg_per_kg"


class Direction(StrEnum):
    ABOVE = "above"
    BELOW = "below"


class CheckKind(StrEnum):
    VITALS = "vitals"
    MOAAS = "moaas"
    DISSOCIATION = "dissociation"


class DischargeItem(StrEnum):
    MIN_OBSERVATION = "min_observation"
    VITALS_OK = "vitals_ok"
    MOAAS_5 = "moaas_5"
    WALKS_UNAIDED = "walks_unaided"
    ESCORT_PRESENT = "escort_present"
    NO_DRIVING = "no_driving"


# Confirmed by the medical professional at discharge; the others are read from the record.
CONFIRMED_ITEMS = (DischargeItem.WALKS_UNAIDED, DischargeItem.ESCORT_PRESENT, DischargeItem.NO_DRIVING)

# Each limit reads one vital and is crossed above or below its values.
LIMITS: dict[str, tuple[str, Direction]] = {
    "systolic": ("systolic", Direction.ABOVE),
    "diastolic": ("diastolic", Direction.ABOVE),
    "heart_rate_high": ("heart_rate", Direction.ABOVE),
    "heart_rate_low": ("heart_rate", Direction.BELOW),
    "spo2_low": ("spo2", Direction.BELOW),
}
LIMIT_LABELS = {
    "systolic": "Systolic blood pressure",
    "diastolic": "Diastolic blood pressure",
    "heart_rate_high": "Heart rate (high)",
    "heart_rate_low": "Heart rate (low)",
    "spo2_low": "Oxygen saturation (low)",
}
# What a human body can show; a reading outside is a typing error, refused.
PHYSIOLOGICAL = {
    "systolic": (50, 300),
    "diastolic": (20, 200),
    "heart_rate": (20, 250),
    "spo2": (50, 100),
    "respiratory_rate": (2, 60),
}
ABSOLUTE_MAX_MG = Decimal(1000)  # no protocol goes near this: a guard against typing errors
MAX_MINUTE = 24 * 60


@dataclass(frozen=True)
class Limit:
    caution: int | None
    hard_stop: int | None


@dataclass(frozen=True)
class Protocol:
    route: str
    dose_unit: DoseUnit
    dose_min: Decimal
    dose_max: Decimal
    max_cumulative: Decimal
    infusion_minutes: int | None
    monitoring: dict[CheckKind, tuple[int, ...]]
    before: dict[str, Limit]
    during: dict[str, Limit]
    min_observation_minutes: int
    discharge_criteria: frozenset[DischargeItem]
    fasting_food_hours: int
    fasting_liquid_minutes: int
    pregnancy_test_required: bool
    weight_valid_days: int
    hard_stop_overridable: bool
    dose_override_allowed: bool
    dissociation_instrument: str = ""
    sources: dict[str, str] = field(default_factory=dict)
    # Scheduling: the least time between two dosing sessions, and at most this many in 7 days.
    min_interval_hours: int = 48
    max_per_week: int = 2

    @property
    def per_kg(self) -> bool:
        return self.dose_unit == DoseUnit.MG_PER_KG


def _limits_json(limits: dict[str, Limit]) -> dict[str, dict[str, int | None]]:
    return {key: {"caution": lim.caution, "hard_stop": lim.hard_stop} for key, lim in limits.items()}


def to_json(p: Protocol) -> dict[str, Any]:
    return {
        "route": p.route,
        "dose_unit": str(p.dose_unit),
        "dose_min": str(p.dose_min),
        "dose_max": str(p.dose_max),
        "max_cumulative": str(p.max_cumulative),
        "infusion_minutes": p.infusion_minutes,
        "monitoring": {str(kind): list(minutes) for kind, minutes in p.monitoring.items()},
        "before": _limits_json(p.before),
        "during": _limits_json(p.during),
        "min_observation_minutes": p.min_observation_minutes,
        "discharge_criteria": sorted(str(item) for item in p.discharge_criteria),
        "fasting_food_hours": p.fasting_food_hours,
        "fasting_liquid_minutes": p.fasting_liquid_minutes,
        "pregnancy_test_required": p.pregnancy_test_required,
        "weight_valid_days": p.weight_valid_days,
        "hard_stop_overridable": p.hard_stop_overridable,
        "dose_override_allowed": p.dose_override_allowed,
        "dissociation_instrument": p.dissociation_instrument,
        "min_interval_hours": p.min_interval_hours,
        "max_per_week": p.max_per_week,
        "sources": dict(p.sources),
    }


class _Reader:
    """Reads typed values out of untrusted JSON, collecting every problem."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.problems: list[str] = []

    def decimal(self, key: str, low: Decimal, high: Decimal) -> Decimal:
        raw = self.data.get(key)
        try:
            value = Decimal(str(raw)) if not isinstance(raw, bool) and raw is not None else None
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or not low <= value <= high:
            self.problems.append(f"{key}: a number from {low} to {high}.")
            return low
        return value

    def integer(self, key: str, low: int, high: int, *, optional: bool = False) -> int | None:
        raw = self.data.get(key)
        if raw is None and optional:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
            self.problems.append(f"{key}: a whole number from {low} to {high}.")
            return low
        return raw

    def boolean(self, key: str) -> bool:
        raw = self.data.get(key)
        if not isinstance(raw, bool):
            self.problems.append(f"{key}: true or false.")
            return False
        return raw

    def limits(self, key: str) -> dict[str, Limit]:
        raw = self.data.get(key)
        if not isinstance(raw, dict):
            self.problems.append(f"{key}: an object of limits ({', '.join(LIMITS)}).")
            return {}
        found: dict[str, Limit] = {}
        for name, spec in raw.items():
            if name not in LIMITS:
                self.problems.append(f"{key}.{name}: not a known limit (known: {', '.join(LIMITS)}).")
                continue
            if not isinstance(spec, dict) or set(spec) - {"caution", "hard_stop"}:
                self.problems.append(f"{key}.{name}: give caution and hard_stop (numbers or null).")
                continue
            vital, direction = LIMITS[name]
            low, high = PHYSIOLOGICAL[vital]
            values = []
            for level in ("caution", "hard_stop"):
                value = spec.get(level)
                if value is not None and (
                    isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high
                ):
                    self.problems.append(
                        f"{key}.{name}.{level}: a whole number from {low} to {high}, or null."
                    )
                    value = None
                values.append(value)
            caution, hard = values
            if caution is not None and hard is not None:
                wrong = caution > hard if direction == Direction.ABOVE else caution < hard
                if wrong:
                    side = "below" if direction == Direction.ABOVE else "above"
                    self.problems.append(f"{key}.{name}: the caution level must be {side} the hard stop.")
            found[name] = Limit(caution=caution, hard_stop=hard)
        return found


def _monitoring(reader: _Reader) -> dict[CheckKind, tuple[int, ...]]:
    raw = reader.data.get("monitoring")
    if not isinstance(raw, dict):
        reader.problems.append("monitoring: an object of check kinds and their minutes.")
        return {}
    schedule: dict[CheckKind, tuple[int, ...]] = {}
    for kind, minutes in raw.items():
        if kind not in CheckKind.__members__.values():
            reader.problems.append(f"monitoring.{kind}: not a known check (known: {', '.join(CheckKind)}).")
            continue
        ok = isinstance(minutes, list) and all(
            isinstance(m, int) and not isinstance(m, bool) and 0 <= m <= MAX_MINUTE for m in minutes
        )
        if not ok or len(set(minutes)) != len(minutes) or len(minutes) > 100:
            reader.problems.append(
                f"monitoring.{kind}: a list of different minutes from 0 to {MAX_MINUTE} (at most 100)."
            )
            continue
        schedule[CheckKind(kind)] = tuple(sorted(minutes))
    if not schedule.get(CheckKind.VITALS):
        reader.problems.append("monitoring.vitals: at least one vital-signs check is required.")
    return schedule


def _optional(reader: _Reader, key: str, low: int, high: int, default: int) -> int:
    if key not in reader.data:
        return default
    value = reader.integer(key, low, high)
    return default if value is None else value


def parse(data: object) -> tuple[Protocol | None, list[str]]:
    """The protocol in ``data``, or None and every problem found."""
    if not isinstance(data, dict):
        return None, ["The protocol must be a JSON object."]
    r = _Reader(data)
    route = data.get("route")
    if not isinstance(route, str) or not route:
        r.problems.append("route: the route this protocol is for.")
    try:
        unit = DoseUnit(str(data.get("dose_unit")))
    except ValueError:
        r.problems.append("dose_unit: mg or mg_per_kg.")
        unit = DoseUnit.MG
    top = ABSOLUTE_MAX_MG if unit == DoseUnit.MG else Decimal(20)
    dose_min = r.decimal("dose_min", Decimal("0.01"), top)
    dose_max = r.decimal("dose_max", Decimal("0.01"), top)
    max_cumulative = r.decimal("max_cumulative", Decimal("0.01"), top)
    if dose_min > dose_max:
        r.problems.append("dose_min: the lowest dose cannot be above the highest.")
    if max_cumulative < dose_max:
        r.problems.append("max_cumulative: the cumulative maximum cannot be below the highest single dose.")
    criteria_raw = data.get("discharge_criteria")
    criteria: set[DischargeItem] = set()
    if not isinstance(criteria_raw, list) or any(
        c not in DischargeItem.__members__.values() for c in criteria_raw
    ):
        r.problems.append(f"discharge_criteria: a list from {', '.join(DischargeItem)}.")
    else:
        criteria = {DischargeItem(c) for c in criteria_raw}
        if DischargeItem.MIN_OBSERVATION not in criteria:
            r.problems.append("discharge_criteria: the minimum observation time is always a criterion.")
    sources = data.get("sources", {})
    if not isinstance(sources, dict) or not all(isinstance(v, str) for v in sources.values()):
        r.problems.append("sources: an object of texts.")
        sources = {}
    instrument = data.get("dissociation_instrument", "")
    if not isinstance(instrument, str) or len(instrument) > 40:
        r.problems.append("dissociation_instrument: the key of a questionnaire, or empty.")
        instrument = ""
    protocol = Protocol(
        route=route if isinstance(route, str) else "",
        dose_unit=unit,
        dose_min=dose_min,
        dose_max=dose_max,
        max_cumulative=max_cumulative,
        infusion_minutes=r.integer("infusion_minutes", 1, 600, optional=True),
        monitoring=_monitoring(r),
        before=r.limits("before"),
        during=r.limits("during"),
        min_observation_minutes=r.integer("min_observation_minutes", 15, MAX_MINUTE) or 15,
        discharge_criteria=frozenset(criteria),
        fasting_food_hours=r.integer("fasting_food_hours", 0, 24) or 0,
        fasting_liquid_minutes=r.integer("fasting_liquid_minutes", 0, 24 * 60) or 0,
        pregnancy_test_required=r.boolean("pregnancy_test_required"),
        weight_valid_days=r.integer("weight_valid_days", 1, 365) or 1,
        hard_stop_overridable=r.boolean("hard_stop_overridable"),
        dose_override_allowed=r.boolean("dose_override_allowed"),
        dissociation_instrument=instrument,
        sources={str(k): v for k, v in sources.items()},
        # Versions saved before these existed read as the examples' values.
        min_interval_hours=_optional(r, "min_interval_hours", 0, 30 * 24, 48),
        max_per_week=_optional(r, "max_per_week", 1, 14, 2),
    )
    return (None, r.problems) if r.problems else (protocol, [])


# --- The shipped examples ------------------------------------------------------------------
SPRAVATO = "Spravato (esketamine) label and REMS"
SANACORA = "Sanacora et al., JAMA Psychiatry 2017;74(4):399-405"
RIVA_POSSE = "Riva-Posse et al. 2018 (684 infusions)"
CTP = "Wolfson / CTP sublingual method"
CLINIC_PRACTICE = "clinic practice (no food 2-4 h, no liquids 30-60 min before dosing)"
CLINIC = "clinic setting"

BEFORE = {
    "systolic": {"caution": 140, "hard_stop": 160},
    "diastolic": {"caution": 90, "hard_stop": 100},
    "heart_rate_high": {"caution": 110, "hard_stop": 130},
    "heart_rate_low": {"caution": 50, "hard_stop": 40},
    "spo2_low": {"caution": 95, "hard_stop": 90},
}
DURING = {
    "systolic": {"caution": 160, "hard_stop": 180},
    "diastolic": {"caution": 100, "hard_stop": 110},
    "heart_rate_high": {"caution": 120, "hard_stop": 140},
    "heart_rate_low": {"caution": 50, "hard_stop": 40},
    "spo2_low": {"caution": 94, "hard_stop": 90},
}
COMMON_SOURCES = {
    "before": f"caution above 140/90: {SPRAVATO} (consider delaying dosing); hard stops: {CLINIC}",
    "during": CLINIC,
    "fasting": CLINIC_PRACTICE,
    "discharge_criteria": f"{SPRAVATO} (no driving until the next day); the rest {CLINIC}",
    "weight_valid_days": CLINIC,
    "pregnancy_test_required": CLINIC,
    "scheduling": f"at least 48 h apart, at most 2 in 7 days: {CLINIC}",
}
ALL_CRITERIA = sorted(str(item) for item in DischargeItem)


def _example(route: str, **values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "route": route,
        "infusion_minutes": None,
        "before": BEFORE,
        "during": DURING,
        "discharge_criteria": ALL_CRITERIA,
        "fasting_food_hours": 4,
        "fasting_liquid_minutes": 60,
        "pregnancy_test_required": False,
        "weight_valid_days": 30,
        "hard_stop_overridable": False,
        "dose_override_allowed": False,
        "dissociation_instrument": "",
        "min_interval_hours": 48,
        "max_per_week": 2,
    }
    base.update(values)
    base["sources"] = {**COMMON_SOURCES, **values.get("sources", {})}
    return base


EXAMPLES: dict[str, dict[str, Any]] = {
    "sublingual": _example(
        "sublingual",
        dose_unit="mg",
        dose_min="100",
        dose_max="400",
        max_cumulative="400",
        monitoring={"vitals": [0, 20, 40, 60, 90, 120], "moaas": [20, 40, 60, 90, 120]},
        min_observation_minutes=120,
        sources={
            "dose": f"{CTP}: 50 and 100 mg units, usual range 100-400 mg",
            "monitoring": f"onset 15-20 min, peak about 40 min, fades over 1-2 h ({CTP}); times: {CLINIC}",
            "min_observation": CLINIC,
        },
    ),
    "buccal": _example(
        "buccal",
        dose_unit="mg",
        dose_min="100",
        dose_max="400",
        max_cumulative="400",
        monitoring={"vitals": [0, 20, 40, 60, 90, 120], "moaas": [20, 40, 60, 90, 120]},
        min_observation_minutes=120,
        sources={"dose": f"as sublingual ({CTP})", "monitoring": CLINIC, "min_observation": CLINIC},
    ),
    "intramuscular": _example(
        "intramuscular",
        dose_unit="mg_per_kg",
        dose_min="0.25",
        dose_max="1.0",
        max_cumulative="1.0",
        monitoring={"vitals": [0, 10, 20, 30, 40, 55, 70, 90], "moaas": [10, 20, 40, 60, 90]},
        min_observation_minutes=90,
        sources={
            "dose": f"dose range: {CLINIC}",
            "monitoring": f"onset about 5 min, lasts about 60 min; times: {CLINIC}",
            "min_observation": CLINIC,
        },
    ),
    "intravenous": _example(
        "intravenous",
        dose_unit="mg_per_kg",
        dose_min="0.5",
        dose_max="0.75",
        max_cumulative="0.75",
        infusion_minutes=40,
        monitoring={
            "vitals": [0, 10, 20, 30, 40, 55, 70, 85, 100],
            "moaas": [20, 40, 60, 85, 100],
        },
        min_observation_minutes=100,
        sources={
            "dose": f"0.5 mg/kg over 40 min is the studied protocol ({SANACORA}); upper bound: {CLINIC}",
            "monitoring": f"BP every 10 min during and every 15 min after ({RIVA_POSSE})",
            "min_observation": CLINIC,
        },
    ),
    "nasal": _example(
        "nasal",
        dose_unit="mg",
        dose_min="56",
        dose_max="84",
        max_cumulative="84",
        monitoring={"vitals": [0, 40, 120], "moaas": [15, 30, 45, 60, 90, 120]},
        min_observation_minutes=120,
        sources={
            "dose": f"{SPRAVATO} (esketamine 56 or 84 mg)",
            "monitoring": f"BP before dosing, at about 40 min and before discharge ({SPRAVATO})",
            "min_observation": f"at least 2 h on site ({SPRAVATO})",
        },
    ),
}


def example(route: str) -> Protocol:
    protocol, problems = parse(EXAMPLES[route])
    if protocol is None:  # pragma: no cover - the examples are checked by the tests
        raise ValueError("; ".join(problems))
    return protocol
