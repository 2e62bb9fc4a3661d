"""The clinic admin's protocol form: one real field per value of ``protocol.Protocol``.

The form checks only what a field can check on its own (a number is a number, minutes are
whole and different); every rule about the protocol (ranges, the lowest dose below the
highest, a caution level on the right side of its hard stop...) stays in ``protocol.parse``,
whose problems ``place_problems`` puts next to the field they name.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kapflow.dosing import protocol as rules
from kapflow.dosing.discharge import ITEM_LABELS

PHASES = {"before": _("Before the dose"), "during": _("During the session")}
LEVELS = {"caution": _("caution"), "hard_stop": _("hard stop")}
MONITORING = {
    rules.CheckKind.VITALS: _("Vital signs at minutes"),
    rules.CheckKind.MOAAS: _("MOAA/S (sedation) at minutes"),
    rules.CheckKind.DISSOCIATION: _("Dissociation questionnaire at minutes"),
}
UNIT_WORDS = {rules.DoseUnit.MG: "mg", rules.DoseUnit.MG_PER_KG: "mg/kg"}
MINUTES_HELP = _("Minutes after the first dose, separated by commas, e.g. 0, 20, 40, 60.")

# Which values each entry of ``Protocol.sources`` speaks for (the shipped examples' keys).
SOURCE_SECTIONS: dict[str, tuple[str, ...]] = {
    "dose": ("dose_unit", "dose_min", "dose_max", "max_cumulative", "infusion_minutes"),
    "monitoring": ("monitoring", "dissociation_instrument"),
    "before": ("before",),
    "during": ("during",),
    "min_observation": ("min_observation_minutes",),
    "discharge_criteria": ("discharge_criteria",),
    "fasting": ("fasting_food_hours", "fasting_liquid_minutes"),
    "pregnancy_test_required": ("pregnancy_test_required",),
    "weight_valid_days": ("weight_valid_days",),
    "scheduling": ("min_interval_hours", "max_per_week"),
    "overrides": ("hard_stop_overridable", "dose_override_allowed"),
}

_MINUTE = re.compile(r"\d+", re.ASCII)


def limit_field(phase: str, name: str, level: str) -> str:
    return f"{phase}_{name}_{level}"


def monitoring_field(kind: str) -> str:
    return f"monitoring_{kind}"


def minutes_text(minutes: tuple[int, ...] | list[int]) -> str:
    return ", ".join(str(m) for m in minutes)


def parse_minutes(text: str) -> list[int]:
    """``"0, 20, 40"`` as minutes; refuses words, negative numbers and repeats."""
    pieces = [piece for piece in re.split(r"[,;\s]+", text.strip()) if piece]
    for piece in pieces:
        if not _MINUTE.fullmatch(piece):
            raise ValidationError(
                gettext("“%(piece)s” is not a whole number of minutes. %(help)s")
                % {"piece": piece, "help": MINUTES_HELP}
            )
    minutes = [int(piece) for piece in pieces]
    repeated = sorted({m for m in minutes if minutes.count(m) > 1})
    if repeated:
        raise ValidationError(
            gettext("Each minute once: %(minutes)s appears more than once.")
            % {"minutes": minutes_text(repeated)}
        )
    too_late = [m for m in minutes if m > rules.MAX_MINUTE]
    if too_late:
        raise ValidationError(
            gettext("%(minute)s is too late: checks run from minute 0 to %(last)s.")
            % {"minute": too_late[0], "last": rules.MAX_MINUTE}
        )
    return minutes


class MinutesField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, max_length=1000, help_text=MINUTES_HELP, **kwargs)

    def clean(self, value: Any) -> list[int]:
        return parse_minutes(super().clean(value))


def _number(
    label: Any,
    help_text: Any = "",
    *,
    required: bool = True,
    min_value: int | None = None,
    max_value: int | None = None,
) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        help_text=help_text,
        required=required,
        min_value=min_value,
        max_value=max_value,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


def _dose(label: Any, help_text: Any = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )


class ProtocolForm(forms.Form):
    base_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    dose_unit = forms.ChoiceField(
        label=_("Dose unit"),
        choices=[(str(unit), words) for unit, words in UNIT_WORDS.items()],
        widget=forms.RadioSelect,
        help_text=_("mg/kg: the dose is worked out from the patient's weight on the day."),
    )
    dose_min = _dose(_("Lowest dose"), _("In the unit above."))
    dose_max = _dose(_("Highest single dose"), _("In the unit above."))
    max_cumulative = _dose(
        _("Cumulative maximum per session"),
        _("Everything given in one session, boosters included, in the unit above."),
    )
    infusion_minutes = _number(
        _("Infusion time (minutes)"), _("How long the infusion runs; blank for none."), required=False
    )
    dissociation_instrument = forms.CharField(
        label=_("Dissociation questionnaire"),
        required=False,
        max_length=40,
    )
    min_observation_minutes = _number(
        _("Minimum observation (minutes)"), _("From the first dose until the patient may leave.")
    )
    discharge_criteria = forms.MultipleChoiceField(
        label=_("Discharge criteria"),
        required=False,
        choices=[(str(item), label) for item, label in ITEM_LABELS.items()],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Each one ticked must be met before discharge."),
    )
    fasting_food_hours = _number(_("No food for (hours) before dosing"))
    fasting_liquid_minutes = _number(_("No liquids for (minutes) before dosing"))
    pregnancy_test_required = forms.BooleanField(
        label=_("A pregnancy test is required before each dose"), required=False
    )
    weight_valid_days = _number(
        _("A weight stays valid for (days)"), _("An older weight must be measured again before dosing.")
    )
    min_interval_hours = _number(
        _("At least (hours) between two dosing sessions"), _("Booking a session sooner is refused.")
    )
    max_per_week = _number(_("At most (dosing sessions) within 7 days"))
    hard_stop_overridable = forms.BooleanField(
        label=_("A hard stop may be overridden by the medical professional, with a reason"), required=False
    )
    dose_override_allowed = forms.BooleanField(
        label=_("A dose outside the range may be given by the medical professional, with a reason"),
        required=False,
    )
    change_note = forms.CharField(
        label=_("What changed, and on whose decision"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept with the new version, e.g. “Medical director: highest dose 300 mg from 1 June”."),
    )

    def __init__(self, *args: Any, route: str, instruments: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instruments = instruments
        self.fields["dissociation_instrument"].help_text = gettext(
            "The questionnaire used at the dissociation checks, by its key; blank for none. "
            "The clinic's questionnaires: %(keys)s."
        ) % {"keys": ", ".join(f"{key} ({name})" for key, name in instruments.items())}
        for kind, label in MONITORING.items():
            self.fields[monitoring_field(kind)] = MinutesField(label=label)
        for phase, phase_label in PHASES.items():
            for name, limit_label in rules.LIMIT_LABELS.items():
                low, high = rules.PHYSIOLOGICAL[rules.LIMITS[name][0]]
                for level, level_label in LEVELS.items():
                    self.fields[limit_field(phase, name, level)] = _number(
                        f"{phase_label}: {gettext(limit_label)}, {level_label}",
                        required=False,
                        min_value=low,
                        max_value=high,
                    )
        self.route = route
        # The infusion time belongs to the intravenous route; another route keeps the field
        # only while its current version has a value, so it can be cleared.
        if route != "intravenous" and not (
            self.initial.get("infusion_minutes") or self.data.get("infusion_minutes")
        ):
            del self.fields["infusion_minutes"]

    def clean_dissociation_instrument(self) -> str:
        key: str = self.cleaned_data["dissociation_instrument"].strip()
        if key and key not in self.instruments:
            raise ValidationError(
                gettext("No questionnaire has the key “%(key)s”. The clinic's: %(keys)s.")
                % {"key": key, "keys": ", ".join(self.instruments)}
            )
        return key

    # --- for the template -----------------------------------------------------------------
    def monitoring_fields(self) -> list[forms.BoundField]:
        return [self[monitoring_field(kind)] for kind in MONITORING]

    def limit_rows(self, phase: str) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [
            (
                gettext(label),
                self[limit_field(phase, name, "caution")],
                self[limit_field(phase, name, "hard_stop")],
            )
            for name, label in rules.LIMIT_LABELS.items()
        ]

    def before_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return self.limit_rows("before")

    def during_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return self.limit_rows("during")

    # --- to and from the stored JSON ------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """The protocol JSON (as ``protocol.parse`` reads it) from the cleaned fields."""
        data = self.cleaned_data
        monitoring = {
            str(kind): data[monitoring_field(kind)]
            for kind in MONITORING
            if data[monitoring_field(kind)] or kind == rules.CheckKind.VITALS
        }
        limits = {
            phase: {
                name: {level: data[limit_field(phase, name, level)] for level in LEVELS}
                for name in rules.LIMITS
            }
            for phase in PHASES
        }
        return {
            "route": self.route,
            "dose_unit": data["dose_unit"],
            "dose_min": str(data["dose_min"]),
            "dose_max": str(data["dose_max"]),
            "max_cumulative": str(data["max_cumulative"]),
            "infusion_minutes": data.get("infusion_minutes"),
            "monitoring": monitoring,
            **limits,
            "min_observation_minutes": data["min_observation_minutes"],
            "discharge_criteria": sorted(data["discharge_criteria"]),
            "fasting_food_hours": data["fasting_food_hours"],
            "fasting_liquid_minutes": data["fasting_liquid_minutes"],
            "pregnancy_test_required": data["pregnancy_test_required"],
            "weight_valid_days": data["weight_valid_days"],
            "min_interval_hours": data["min_interval_hours"],
            "max_per_week": data["max_per_week"],
            "hard_stop_overridable": data["hard_stop_overridable"],
            "dose_override_allowed": data["dose_override_allowed"],
            "dissociation_instrument": data["dissociation_instrument"],
        }

    def place_problems(self, problems: list[str]) -> None:
        """Each problem from ``protocol.parse`` next to the field it names, else at the top."""
        for problem in problems:
            name, message = problem_field(problem)
            self.add_error(name if name in self.fields else None, message)


def initial_for(protocol: rules.Protocol, version: int) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "base_version": version,
        "dose_unit": str(protocol.dose_unit),
        "dose_min": protocol.dose_min,
        "dose_max": protocol.dose_max,
        "max_cumulative": protocol.max_cumulative,
        "infusion_minutes": protocol.infusion_minutes,
        "dissociation_instrument": protocol.dissociation_instrument,
        "min_observation_minutes": protocol.min_observation_minutes,
        "discharge_criteria": sorted(str(item) for item in protocol.discharge_criteria),
        "fasting_food_hours": protocol.fasting_food_hours,
        "fasting_liquid_minutes": protocol.fasting_liquid_minutes,
        "pregnancy_test_required": protocol.pregnancy_test_required,
        "weight_valid_days": protocol.weight_valid_days,
        "min_interval_hours": protocol.min_interval_hours,
        "max_per_week": protocol.max_per_week,
        "hard_stop_overridable": protocol.hard_stop_overridable,
        "dose_override_allowed": protocol.dose_override_allowed,
    }
    for kind in MONITORING:
        initial[monitoring_field(kind)] = minutes_text(protocol.monitoring.get(kind, ()))
    for phase in PHASES:
        limits: dict[str, rules.Limit] = getattr(protocol, phase)
        for name in rules.LIMITS:
            limit = limits.get(name)
            initial[limit_field(phase, name, "caution")] = limit.caution if limit else None
            initial[limit_field(phase, name, "hard_stop")] = limit.hard_stop if limit else None
    return initial


def problem_field(problem: str) -> tuple[str | None, str]:
    """``"before.systolic: the caution level..."`` -> ("before_systolic_caution", "The caution level...")."""
    key, sep, text = problem.partition(": ")
    if not sep or " " in key:
        return None, problem
    parts = key.split(".")
    if parts[0] == "monitoring" and len(parts) == 2:
        name = monitoring_field(parts[1])
    elif parts[0] in PHASES and len(parts) == 3:
        name = limit_field(*parts)
    elif parts[0] in PHASES and len(parts) == 2:
        name = limit_field(parts[0], parts[1], "caution")
    else:
        name = key
    text = text.replace(", or null", ", or blank for none")
    text = f"Enter {text}" if text.startswith(("a ", "an ")) else text[:1].upper() + text[1:]
    return name, text


def sources_after(previous: rules.Protocol, new: rules.Protocol, stamp: str) -> dict[str, str]:
    """The previous version's sources; a section whose values changed is now ``stamp``."""
    sources = dict(previous.sources)
    for key, attributes in SOURCE_SECTIONS.items():
        if any(getattr(previous, a) != getattr(new, a) for a in attributes):
            sources[key] = stamp
    return sources
