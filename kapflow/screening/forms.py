from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kapflow.measures.models import MeasureResponse
from kapflow.screening.models import HealthQuestionnaire, MedicalScreening, Outcome, Route
from kapflow.screening.rules import MedClass, RuleSet

MED_CLASS_LABELS = {
    MedClass.MAOI: _("MAO inhibitor"),
    MedClass.PSYCHOSTIMULANT: _("Psychostimulant"),
    MedClass.BENZODIAZEPINE: _("Benzodiazepine"),
    MedClass.CNS_DEPRESSANT: _("Other CNS depressant"),
    MedClass.OPIOID: _("Opioid"),
    MedClass.THEOPHYLLINE: _("Theophylline"),
}


def _range(name: Any, low: int, high: int, unit: Any) -> dict[str, Any]:
    message = _("%(name)s must be between %(low)s and %(high)s %(unit)s.") % {
        "name": name,
        "low": low,
        "high": high,
        "unit": unit,
    }
    return {
        "min_value": low,
        "max_value": high,
        "error_messages": {"min_value": message, "max_value": message, "invalid": message},
    }


class HealthQuestionnaireForm(forms.ModelForm[HealthQuestionnaire]):
    conditions = forms.MultipleChoiceField(
        label=_("Have you ever had any of these?"), required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = HealthQuestionnaire
        fields = [
            "conditions",
            "other_conditions",
            "medications",
            "substance_use",
            "pregnant_or_breastfeeding",
            "psychiatric_history",
            "psychosis",
            "bipolar",
            "antidepressant_trials",
            "psychotherapy",
            "ect",
            "tms",
            "prior_ketamine",
        ]
        labels = {
            "pregnant_or_breastfeeding": _("Are you pregnant or breastfeeding, or could you be pregnant?"),
            "psychosis": _(
                "Have you ever had psychosis (for example hallucinations), or a diagnosis such as schizophrenia?"
            ),
            "bipolar": _("Have you been diagnosed with bipolar disorder?"),
            "antidepressant_trials": _(
                "How many antidepressant medicines have you tried, each for at least 6 weeks?"
            ),
            "psychotherapy": _("I have had talk therapy (psychotherapy)"),
            "ect": _("I have had electroconvulsive therapy (ECT)"),
            "tms": _("I have had transcranial magnetic stimulation (TMS)"),
            "prior_ketamine": _("I have had ketamine or esketamine treatment before"),
        }
        widgets = {
            "pregnant_or_breastfeeding": forms.RadioSelect,
            "psychosis": forms.RadioSelect,
            "bipolar": forms.RadioSelect,
            "other_conditions": forms.Textarea(attrs={"rows": 2}),
            "medications": forms.Textarea(attrs={"rows": 3}),
            "substance_use": forms.Textarea(attrs={"rows": 2}),
            "psychiatric_history": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, rules: RuleSet, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["conditions"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(c.key, c.label) for c in rules.conditions]


class BaselineField(forms.ModelChoiceField[MeasureResponse]):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.answered_at:%Y-%m-%d}: {obj.total if obj.total is not None else obj.risk} {obj.band}"


class ScreeningForm(forms.ModelForm[MedicalScreening]):
    conditions = forms.MultipleChoiceField(
        label=_("Conditions (verified)"), required=False, widget=forms.CheckboxSelectMultiple
    )
    med_classes = forms.MultipleChoiceField(
        label=_("Current medicines in these interaction classes"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(c.value, MED_CLASS_LABELS[c]) for c in MedClass],
    )
    systolic = forms.IntegerField(
        label=_("Systolic blood pressure (mmHg)"), **_range(_("Systolic blood pressure"), 60, 260, "mmHg")
    )
    diastolic = forms.IntegerField(
        label=_("Diastolic blood pressure (mmHg)"), **_range(_("Diastolic blood pressure"), 30, 160, "mmHg")
    )
    heart_rate = forms.IntegerField(
        label=_("Heart rate (beats per minute)"), **_range(_("Heart rate"), 25, 250, _("beats per minute"))
    )
    weight_kg = forms.DecimalField(
        label=_("Weight (kg)"), decimal_places=1, **_range(_("Weight"), 20, 350, "kg")
    )
    height_cm = forms.DecimalField(
        label=_("Height (cm)"), decimal_places=1, **_range(_("Height"), 100, 250, "cm")
    )
    adequate_trials = forms.IntegerField(label=_("Adequate antidepressant trials"), min_value=0, max_value=30)
    baseline_phq9 = BaselineField(
        queryset=MeasureResponse.objects.none(), required=False, label=_("Baseline PHQ-9")
    )
    baseline_gad7 = BaselineField(
        queryset=MeasureResponse.objects.none(), required=False, label=_("Baseline GAD-7")
    )
    baseline_cssrs = BaselineField(
        queryset=MeasureResponse.objects.none(), required=False, label=_("Baseline C-SSRS")
    )

    class Meta:
        model = MedicalScreening
        fields = [
            "conditions",
            "med_classes",
            "medications",
            "substance_use_active",
            "substance_use_notes",
            "pregnant_or_breastfeeding",
            "psychosis_history",
            "psychosis_family_history",
            "bipolar",
            "mood_stabiliser",
            "adequate_trials",
            "psychotherapy_tried",
            "ect",
            "tms",
            "prior_ketamine",
            "systolic",
            "diastolic",
            "heart_rate",
            "weight_kg",
            "height_cm",
            "baseline_phq9",
            "baseline_gad7",
            "baseline_cssrs",
            "notes",
        ]
        labels = {
            "medications": _("Current medicines (names and doses)"),
            "substance_use_active": _("Active substance use disorder"),
            "substance_use_notes": _("Substance use (notes)"),
            "pregnant_or_breastfeeding": _("Pregnant or breastfeeding"),
            "psychosis_history": _("History of psychosis"),
            "psychosis_family_history": _("Psychosis in a first-degree relative"),
            "bipolar": _("Bipolar disorder"),
            "mood_stabiliser": _("Takes a mood stabiliser"),
            "psychotherapy_tried": _("Psychotherapy tried"),
            "ect": _("ECT tried"),
            "tms": _("TMS tried"),
            "prior_ketamine": _("Prior ketamine or esketamine"),
        }
        widgets = {
            "medications": forms.Textarea(attrs={"rows": 2}),
            "substance_use_notes": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, rules: RuleSet, responses: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["conditions"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(c.key, f"{c.label} ({c.level.replace('_', '-')})") for c in rules.conditions]
        for key in ("phq9", "gad7", "cssrs"):
            choice = self.fields[f"baseline_{key}"]
            assert isinstance(choice, forms.ModelChoiceField)
            choice.queryset = responses.filter(instrument_key=key)

    def clean_weight_kg(self) -> Decimal:
        return Decimal(self.cleaned_data["weight_kg"])


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Decision"), choices=Outcome.choices, widget=forms.RadioSelect)
    valid_until = forms.DateField(
        label=_("Valid until (for eligible)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    routes = forms.MultipleChoiceField(
        label=_("Routes allowed (for eligible)"),
        required=False,
        choices=Route.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    reason = forms.CharField(
        label=_("Reason (for not eligible or more information)"),
        required=False,
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    justification = forms.CharField(
        label=_("Justification (required to decide eligible despite a hard-stop finding)"),
        required=False,
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RulesForm(forms.Form):
    rules = forms.CharField(
        label=_("Eligibility rules (JSON)"),
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false"}),
    )
