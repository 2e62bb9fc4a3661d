"""Eligibility rules: a pure, versioned rule set that turns screening facts into findings.

Standard library only (no Django), so the rules can be tested at every boundary and edited by
a clinic as JSON. The shipped DEFAULT_RULES are *examples* for the medical director, not
clinical advice; sources cite ../shared/docs/DOMAIN.md's references.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any


class Level(StrEnum):
    HARD_STOP = "hard_stop"
    CAUTION = "caution"
    INFO = "info"


class MedClass(StrEnum):
    MAOI = "maoi"
    PSYCHOSTIMULANT = "psychostimulant"
    BENZODIAZEPINE = "benzodiazepine"
    CNS_DEPRESSANT = "cns_depressant"
    OPIOID = "opioid"
    THEOPHYLLINE = "theophylline"


LEVEL_ORDER = {Level.HARD_STOP: 0, Level.CAUTION: 1, Level.INFO: 2}

SPRAVATO = "Spravato (esketamine) label"
KETALAR = "Ketalar (ketamine) label"
CLINICS = "clinic exclusion lists"
SANACORA = "Sanacora et al., JAMA Psychiatry 2017;74(4):399-405"

SOURCES = {
    "psychosis": f"{CLINICS}; {SANACORA}",
    "psychosis_family": f"{CLINICS} (some clinics)",
    "substance_use": f"{CLINICS}; {SANACORA}",
    "pregnancy": f"{SPRAVATO}; {CLINICS}",
    "bipolar": CLINICS,
    "med": f"{SPRAVATO}; {KETALAR} (drug interactions)",
    "bp_caution": f"{SPRAVATO} (consider delaying dosing if BP > 140/90)",
    "bp_hard_stop": "clinic setting",
    "bp_missing": SPRAVATO,
    "trials": SANACORA,
}

MED_LABELS = {
    MedClass.MAOI: "A monoamine oxidase inhibitor (MAOI)",
    MedClass.PSYCHOSTIMULANT: "A psychostimulant",
    MedClass.BENZODIAZEPINE: "A benzodiazepine",
    MedClass.CNS_DEPRESSANT: "A CNS depressant",
    MedClass.OPIOID: "An opioid",
    MedClass.THEOPHYLLINE: "Theophylline",
}

LEVEL_PHRASES = {
    Level.HARD_STOP: "a hard stop: do not dose unless a prescriber justifies it in writing",
    Level.CAUTION: "a caution: weigh it before deciding",
    Level.INFO: "for information",
}


@dataclass(frozen=True)
class Condition:
    key: str
    label: str
    level: Level
    source: str


@dataclass(frozen=True)
class RuleSet:
    version: str
    conditions: tuple[Condition, ...]
    bp_caution: tuple[int, int] = (140, 90)
    bp_hard_stop: tuple[int, int] = (180, 110)
    min_adequate_trials: int = 2
    caution_med_classes: frozenset[MedClass] = field(default_factory=lambda: frozenset(MedClass))
    example: bool = True

    def condition(self, key: str) -> Condition:
        """The condition with this key; KeyError if the rule set has none."""
        for condition in self.conditions:
            if condition.key == key:
                return condition
        raise KeyError(key)


@dataclass(frozen=True)
class ScreeningFacts:
    conditions: frozenset[str]
    med_classes: frozenset[MedClass]
    substance_use_active: bool
    pregnant_or_breastfeeding: bool
    psychosis_history: bool
    psychosis_family_history: bool
    bipolar: bool
    mood_stabiliser: bool
    adequate_trials: int
    psychotherapy_tried: bool
    systolic: int | None
    diastolic: int | None


@dataclass(frozen=True)
class Finding:
    level: Level
    rule_id: str
    message: str
    source: str


def evaluate(facts: ScreeningFacts, rules: RuleSet) -> tuple[Finding, ...]:
    """Every finding, hard stops first, then cautions, then information (stable within a level)."""
    found: list[Finding] = []
    known = {condition.key for condition in rules.conditions}
    for condition in rules.conditions:
        if condition.key in facts.conditions:
            message = f"{condition.label} is recorded; {LEVEL_PHRASES[condition.level]}."
            found.append(Finding(condition.level, f"condition:{condition.key}", message, condition.source))
    for key in sorted(facts.conditions - known):
        message = f"Condition '{key}' is recorded but is not in rule set {rules.version}; review it by hand."
        found.append(Finding(Level.CAUTION, f"condition:{key}", message, f"rule set {rules.version}"))
    if facts.psychosis_history:
        message = "History of psychosis or a psychotic disorder."
        found.append(Finding(Level.HARD_STOP, "psychosis", message, SOURCES["psychosis"]))
    if facts.psychosis_family_history:
        message = "A first-degree relative has a psychotic disorder."
        found.append(Finding(Level.CAUTION, "psychosis_family", message, SOURCES["psychosis_family"]))
    if facts.substance_use_active:
        message = "Active substance use disorder."
        found.append(Finding(Level.HARD_STOP, "substance_use", message, SOURCES["substance_use"]))
    if facts.pregnant_or_breastfeeding:
        message = "Pregnant or breastfeeding."
        found.append(Finding(Level.HARD_STOP, "pregnancy", message, SOURCES["pregnancy"]))
    if facts.bipolar and not facts.mood_stabiliser:
        message = "Bipolar disorder without a mood stabiliser."
        found.append(Finding(Level.CAUTION, "bipolar_unstabilised", message, SOURCES["bipolar"]))
    elif facts.bipolar:
        message = "Bipolar disorder, taking a mood stabiliser."
        found.append(Finding(Level.INFO, "bipolar", message, SOURCES["bipolar"]))
    for med in MedClass:
        if med in facts.med_classes and med in rules.caution_med_classes:
            message = f"{MED_LABELS[med]} is taken; it interacts with ketamine."
            found.append(Finding(Level.CAUTION, f"med:{med.value}", message, SOURCES["med"]))
    found += _blood_pressure(facts.systolic, facts.diastolic, rules)
    if facts.adequate_trials < rules.min_adequate_trials:
        message = (
            f"{facts.adequate_trials} adequate antidepressant trial(s) recorded; ketamine is usually "
            f"considered after at least {rules.min_adequate_trials}."
        )
        found.append(Finding(Level.INFO, "few_trials", message, SOURCES["trials"]))
    if not facts.psychotherapy_tried:
        message = "Psychotherapy has not been tried."
        found.append(Finding(Level.INFO, "no_psychotherapy", message, SOURCES["trials"]))
    return tuple(sorted(found, key=lambda finding: LEVEL_ORDER[finding.level]))


def _blood_pressure(systolic: int | None, diastolic: int | None, rules: RuleSet) -> list[Finding]:
    """Thresholds apply to whichever value is recorded; a missing value is reported as well."""
    found: list[Finding] = []
    shown = f"{'?' if systolic is None else systolic}/{'?' if diastolic is None else diastolic}"
    (stop_sys, stop_dia), (caution_sys, caution_dia) = rules.bp_hard_stop, rules.bp_caution
    if (systolic is not None and systolic >= stop_sys) or (diastolic is not None and diastolic >= stop_dia):
        message = f"Blood pressure {shown} is at or above the clinic's hard stop of {stop_sys}/{stop_dia}."
        found.append(Finding(Level.HARD_STOP, "bp_hard_stop", message, SOURCES["bp_hard_stop"]))
    elif (systolic is not None and systolic > caution_sys) or (
        diastolic is not None and diastolic > caution_dia
    ):
        message = f"Blood pressure {shown} is above {caution_sys}/{caution_dia}; consider delaying dosing."
        found.append(Finding(Level.CAUTION, "bp_caution", message, SOURCES["bp_caution"]))
    if systolic is None or diastolic is None:
        message = "Blood pressure not recorded (systolic and diastolic are both needed)."
        found.append(Finding(Level.INFO, "bp_missing", message, SOURCES["bp_missing"]))
    return found


class RulesError(ValueError):
    """A clinic-edited rule set was refused; `problems` names each problem found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


TOP_KEYS = tuple(f.name for f in fields(RuleSet))
CONDITION_KEYS = ("key", "label", "level", "source")
KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
DEFAULTS = RuleSet(version="", conditions=())


def _text(value: object, where: str, problems: list[str]) -> str:
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where} must be a non-empty string")
        return ""
    return value


def _count(value: object, where: str, problems: list[str]) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(f"{where} must be a whole number")
        return None
    if value < 0:
        problems.append(f"{where} must not be negative")
        return None
    return value


def _pair(value: object, where: str, problems: list[str]) -> tuple[int, int] | None:
    if isinstance(value, list | tuple) and len(value) == 2:
        first, second = value
        if all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (first, second)):
            return (int(first), int(second))
    problems.append(f"{where} must be [systolic, diastolic], two positive whole numbers")
    return None


def _condition(item: object, where: str, problems: list[str]) -> Condition | None:
    if not isinstance(item, dict):
        problems.append(f"{where} must be an object")
        return None
    before = len(problems)
    problems += [f"{where}: unknown key '{key}'" for key in item if key not in CONDITION_KEYS]
    problems += [f"{where}: '{key}' is required" for key in CONDITION_KEYS if key not in item]
    key = item.get("key")
    if "key" in item and not (isinstance(key, str) and KEY_PATTERN.fullmatch(key)):
        problems.append(f"{where}.key must be lower-case letters, digits and underscores, got {key!r}")
    label = _text(item.get("label"), f"{where}.label", problems) if "label" in item else ""
    source = _text(item.get("source"), f"{where}.source", problems) if "source" in item else ""
    level = item.get("level")
    if "level" in item and level not in {lvl.value for lvl in Level}:
        problems.append(f"{where}.level must be one of hard_stop, caution, info, got {level!r}")
    if len(problems) > before:
        return None
    return Condition(key=str(key), label=label, level=Level(str(level)), source=source)


def parse_rules(data: object) -> RuleSet:
    """A rule set from clinic-edited JSON data; RulesError lists every problem found."""
    if not isinstance(data, dict):
        raise RulesError(["the rule set must be a JSON object"])
    problems = [f"unknown key '{key}'" for key in data if key not in TOP_KEYS]
    version = _text(data["version"], "version", problems) if "version" in data else ""
    if "version" not in data:
        problems.append("'version' is required")
    example = data.get("example", DEFAULTS.example)
    if not isinstance(example, bool):
        problems.append("example must be true or false")
    conditions: list[Condition] = []
    raw_conditions = data.get("conditions")
    if "conditions" not in data:
        problems.append("'conditions' is required")
    elif not isinstance(raw_conditions, list):
        problems.append("conditions must be a list")
    else:
        seen: set[str] = set()
        for index, item in enumerate(raw_conditions):
            condition = _condition(item, f"conditions[{index}]", problems)
            key = item.get("key") if isinstance(item, dict) else None
            if isinstance(key, str) and key in seen:
                problems.append(f"conditions[{index}]: duplicate key '{key}'")
            elif condition is not None:
                conditions.append(condition)
            if isinstance(key, str):
                seen.add(key)
    caution = _pair(data.get("bp_caution", list(DEFAULTS.bp_caution)), "bp_caution", problems)
    stop = _pair(data.get("bp_hard_stop", list(DEFAULTS.bp_hard_stop)), "bp_hard_stop", problems)
    if caution and stop and not (stop[0] > caution[0] and stop[1] > caution[1]):
        problems.append(
            f"bp_hard_stop ({stop[0]}/{stop[1]}) must be above bp_caution ({caution[0]}/{caution[1]}) "
            "for both systolic and diastolic"
        )
    trials = _count(
        data.get("min_adequate_trials", DEFAULTS.min_adequate_trials), "min_adequate_trials", problems
    )
    meds: set[MedClass] = set()
    raw_meds = data.get("caution_med_classes", [med.value for med in MedClass])
    if not isinstance(raw_meds, list):
        problems.append("caution_med_classes must be a list")
    else:
        for med in raw_meds:
            if med not in {m.value for m in MedClass}:
                names = ", ".join(m.value for m in MedClass)
                problems.append(f"caution_med_classes: unknown class {med!r} (known: {names})")
            elif MedClass(med) in meds:
                problems.append(f"caution_med_classes: '{med}' is listed twice")
            else:
                meds.add(MedClass(med))
    if problems or caution is None or stop is None or trials is None:
        raise RulesError(problems)
    return RuleSet(
        version=version,
        conditions=tuple(conditions),
        bp_caution=caution,
        bp_hard_stop=stop,
        min_adequate_trials=trials,
        caution_med_classes=frozenset(meds),
        example=bool(example),
    )


def rules_to_data(rules: RuleSet) -> dict[str, Any]:
    """The JSON-ready form of a rule set; parse_rules(rules_to_data(x)) == x."""
    return {
        "version": rules.version,
        "example": rules.example,
        "conditions": [
            {"key": c.key, "label": c.label, "level": c.level.value, "source": c.source}
            for c in rules.conditions
        ],
        "bp_caution": list(rules.bp_caution),
        "bp_hard_stop": list(rules.bp_hard_stop),
        "min_adequate_trials": rules.min_adequate_trials,
        "caution_med_classes": [m.value for m in MedClass if m in rules.caution_med_classes],
    }


_SEEDED = (
    (
        "aneurysmal_vascular_disease",
        "Aneurysmal vascular disease or arteriovenous malformation",
        Level.HARD_STOP,
    ),
    ("intracerebral_haemorrhage", "History of intracerebral haemorrhage", Level.HARD_STOP),
    ("ketamine_hypersensitivity", "Hypersensitivity to ketamine or esketamine", Level.HARD_STOP),
    ("uncontrolled_hypertension", "Uncontrolled hypertension", Level.HARD_STOP),
    ("hepatic_impairment", "Hepatic impairment", Level.CAUTION),
    ("cystitis_history", "History of cystitis", Level.CAUTION),
)
_SEEDED_SOURCES = {
    "aneurysmal_vascular_disease": f"{SPRAVATO} (contraindication)",
    "intracerebral_haemorrhage": f"{SPRAVATO} (contraindication)",
    "ketamine_hypersensitivity": f"{SPRAVATO}; {KETALAR} (contraindication)",
    "uncontrolled_hypertension": f"{KETALAR}; {CLINICS}",
    "hepatic_impairment": f"{SPRAVATO}; {CLINICS}",
    "cystitis_history": f"{SPRAVATO}; {CLINICS}",
}
DEFAULT_RULES = RuleSet(
    version="example-1",
    conditions=tuple(Condition(key, label, level, _SEEDED_SOURCES[key]) for key, label, level in _SEEDED),
)
