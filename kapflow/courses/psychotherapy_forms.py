"""Forms of the psychotherapy note pages and of the patient's course page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kapflow.courses.psychotherapy_services import MAX_TEXT

JOURNAL_MAX = 10000
INTENTION_MAX = 3000


class PsychotherapyNoteForm(forms.Form):
    text = forms.CharField(
        label=_("Psychotherapy note"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text=_(
            "Kept apart from the record: only you can read it (and, if the clinic allows it, the "
            "patient's other treating therapists). Never printed, exported or shown to the patient."
        ),
        error_messages={
            "max_length": _("A note may be at most %(limit_value)d characters (it has %(show_value)d).")
        },
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class SignForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class IntentionForm(forms.Form):
    text = forms.CharField(
        label=_("Your intention"),
        max_length=INTENTION_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("In your own words: what you hope to explore or change. Your care team will see it."),
        error_messages={
            "max_length": _("An intention may be at most %(limit_value)d characters (it has %(show_value)d).")
        },
    )


class JournalForm(forms.Form):
    text = forms.CharField(
        label=_("Journal entry"),
        max_length=JOURNAL_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={
            "max_length": _(
                "A journal entry may be at most %(limit_value)d characters; yours has %(show_value)d. "
                "Nothing was saved: shorten it or split it into several entries."
            )
        },
    )
    shared = forms.BooleanField(
        label=_("Share this entry with my care team"),
        required=False,
        help_text=_("Leave unticked to keep it private: only you will see it."),
    )
