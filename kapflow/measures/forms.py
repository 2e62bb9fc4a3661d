from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kapflow.measures.instruments.model import Instrument, Rater
from kapflow.measures.models import Schedule

MAX_DEFINITION_BYTES = 256 * 1024


class AssignForm(forms.Form):
    instrument = forms.ChoiceField(label=_("Questionnaire"))
    schedule = forms.ChoiceField(label=_("When"), choices=Schedule.choices, widget=forms.RadioSelect)
    interval_days = forms.IntegerField(
        label=_("Every how many days"),
        required=False,
        min_value=1,
        max_value=365,
        help_text=_("For “Every N days”."),
    )
    hours_after = forms.IntegerField(
        label=_("Hours after each dosing session"),
        required=False,
        min_value=1,
        max_value=336,
        help_text=_("For “after each dosing session”; takes effect once dosing sessions are scheduled."),
    )
    starts_on = forms.DateField(label=_("Starting on"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(
        label=_("Ending on (optional)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, instruments: list[Instrument], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["instrument"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(i.key, i.name) for i in instruments if i.rater == Rater.PATIENT]
        self.fields["starts_on"].initial = timezone.localdate()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        schedule = data.get("schedule")
        if schedule == Schedule.EVERY_N_DAYS and not data.get("interval_days"):
            self.add_error("interval_days", _("Give the number of days between questionnaires."))
        if schedule == Schedule.AFTER_DOSING and not data.get("hours_after"):
            self.add_error("hours_after", _("Give the number of hours after each dosing session."))
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("The end date is before the start date."))
        return data


def answers_form_class(instrument: Instrument) -> type[forms.Form]:
    """A form with one radio group per item (staff entering on the patient's behalf)."""
    fields: dict[str, forms.Field] = {}
    for item in instrument.items:
        label = item.text
        if item.show_if is not None:
            label = f"{label} " + str(_("(only if the answer to %(item)s was %(values)s)")) % {
                "item": item.show_if.item,
                "values": ", ".join(str(v) for v in sorted(item.show_if.values)),
            }
        fields[item.id] = forms.TypedChoiceField(
            label=label,
            choices=[(str(o.value), f"{o.label} ({o.value})") for o in item.options],
            coerce=int,
            required=False,
            widget=forms.RadioSelect,
        )
    return type("AnswersForm", (forms.Form,), fields)


class CorrectionReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is this response corrected?"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class AcknowledgeForm(forms.Form):
    action_taken = forms.CharField(
        label=_("Action taken"),
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For example: called the patient, completed a risk assessment, safety plan reviewed."),
    )


class InstrumentUploadForm(forms.Form):
    """The definition file of a clinic's own instrument; ``cleaned_data["definition"]`` is its decoded JSON."""

    definition = forms.FileField(
        label=_("Instrument definition (JSON file)"),
        help_text=_("At most 256 KB. See the built-in instruments' definitions for the format."),
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
    )

    def clean_definition(self) -> object:
        upload = self.cleaned_data["definition"]
        if upload.size > MAX_DEFINITION_BYTES:
            raise forms.ValidationError(_("The file is larger than 256 KB."))
        if not str(upload.name or "").lower().endswith(".json"):
            raise forms.ValidationError(_("Choose a JSON file (its name ends in .json)."))
        try:
            return json.loads(upload.read().decode("utf-8"))
        except UnicodeDecodeError:
            raise forms.ValidationError(_("The file is not text in UTF-8.")) from None
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("The file is not valid JSON: %(error)s (line %(line)s, column %(column)s).")
                % {"error": exc.msg, "line": exc.lineno, "column": exc.colno}
            ) from None
        except (RecursionError, ValueError):
            # Nesting deeper than the parser's recursion limit, or a number with more digits
            # than Python converts (int_max_str_digits): no instrument needs either.
            raise forms.ValidationError(
                _("The file is not a usable definition: it is nested too deeply or holds a number too long.")
            ) from None
