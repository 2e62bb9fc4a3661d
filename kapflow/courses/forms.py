from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kapflow.accounts.models import Membership
from kapflow.clinics.models import Clinic
from kapflow.core.roles import MEDICAL_ROLES, Role
from kapflow.courses import rules
from kapflow.courses.models import CourseStatus, VisitKind
from kapflow.screening.models import Route


def _staff_choices(clinic: Clinic, roles: frozenset[Role]) -> list[tuple[int, str]]:
    members = Membership.objects.filter(
        clinic=clinic, is_active=True, role__in=[str(r) for r in roles]
    ).select_related("user")
    return [(m.user_id, f"{m.user.full_name} ({m.get_role_display()})") for m in members]


class CourseForm(forms.Form):
    route = forms.ChoiceField(label=_("Route"), choices=Route.choices)
    planned_dosing_sessions = forms.IntegerField(
        label=_("Planned dosing sessions"), min_value=1, max_value=50, initial=6
    )
    therapists = forms.TypedMultipleChoiceField(
        label=_("Therapists"), coerce=int, widget=forms.CheckboxSelectMultiple
    )
    medical = forms.TypedMultipleChoiceField(
        label=_("Medical professionals"), coerce=int, widget=forms.CheckboxSelectMultiple
    )
    starts_on = forms.DateField(label=_("Starts on"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, clinic: Clinic, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["therapists"].choices = _staff_choices(clinic, frozenset({Role.THERAPIST}))  # type: ignore[attr-defined]
        self.fields["medical"].choices = _staff_choices(clinic, MEDICAL_ROLES)  # type: ignore[attr-defined]
        self.fields["starts_on"].initial = timezone.localdate()


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=CourseStatus.choices)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when the course is discontinued."),
    )


class VisitForm(forms.Form):
    # A dosing session's guide note is started from the session page, not here.
    kind = forms.ChoiceField(
        label=_("Kind of visit"),
        choices=[c for c in VisitKind.choices if c[0] != VisitKind.DOSING],
        widget=forms.RadioSelect,
    )
    happened_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["happened_on"].initial = timezone.localdate()


class AddendumForm(forms.Form):
    text = forms.CharField(
        label=_("Addendum"), max_length=rules.MAX_TEXT, widget=forms.Textarea(attrs={"rows": 3})
    )


def note_form_class(template: rules.NoteTemplate) -> type[forms.Form]:
    """A form with the template's fields and the hidden base version."""
    fields: dict[str, forms.Field] = {"version": forms.IntegerField(widget=forms.HiddenInput, min_value=1)}
    for spec in template.fields:
        label, help_text = gettext(spec.label), gettext(spec.help) if spec.help else ""
        if spec.kind == rules.FieldKind.TEXT:
            fields[spec.name] = forms.CharField(
                label=label,
                help_text=help_text,
                required=False,
                max_length=rules.MAX_TEXT,
                strip=False,
                widget=forms.Textarea(attrs={"rows": 4}),
            )
        elif spec.kind == rules.FieldKind.BOOL:
            fields[spec.name] = forms.BooleanField(label=label, help_text=help_text, required=False)
        else:
            fields[spec.name] = forms.MultipleChoiceField(
                label=label,
                help_text=help_text,
                required=False,
                choices=[(o.key, gettext(o.label)) for o in spec.options],
                widget=forms.CheckboxSelectMultiple,
            )
    return type("NoteForm", (forms.Form,), fields)


def autosave_attrs(form: forms.Form, url: str) -> None:
    """Autosave with htmx: text fields after a 2 s pause in typing, the others on change."""
    for name, field in form.fields.items():
        if name == "version":
            continue
        trigger = "keyup changed delay:2s" if isinstance(field.widget, forms.Textarea) else "change"
        field.widget.attrs.update(
            {"hx-post": url, "hx-trigger": trigger, "hx-target": "#autosave-status", "hx-swap": "innerHTML"}
        )


def content_of(form: forms.Form, template: rules.NoteTemplate) -> dict[str, Any]:
    return {spec.name: form.cleaned_data[spec.name] for spec in template.fields}
