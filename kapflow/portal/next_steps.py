"""What a patient should do or expect next, in plain words: a pure function of plain facts.

``next_steps(facts)`` decides which steps apply and in what order; the words live in
``STEP_TEXT``. Later features add a fact and a step here (questionnaires due, consent to
sign, appointments booked), so the portal home's list keeps one source.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy


@dataclass(frozen=True)
class PortalFacts:
    """What is known today about where the patient stands."""

    has_care_team: bool
    has_phone: bool
    has_two_factor: bool
    questionnaires_due: int = 0
    # The clinic has a consent form and the patient has not signed its current version
    # (never signed, or signed an older one). A withdrawn consent does not ask again.
    consent_to_sign: bool = False
    health_questionnaire_done: bool = True
    # An open (active or planned) treatment course exists and the patient has set no intention.
    intentions_to_set: bool = False
    # A booked appointment lies ahead (the clinic has already been in touch about it).
    has_upcoming_appointment: bool = False


class Step(StrEnum):
    FILL_IN_QUESTIONNAIRES = "fill_in_questionnaires"
    SIGN_CONSENT = "sign_consent"
    SET_INTENTIONS = "set_intentions"
    FILL_IN_HEALTH_QUESTIONNAIRE = "fill_in_health_questionnaire"
    PREPARE_FOR_APPOINTMENT = "prepare_for_appointment"
    CLINIC_WILL_CONTACT = "clinic_will_contact"
    CARE_TEAM_WILL_CONTACT = "care_team_will_contact"
    GIVE_PHONE_NUMBER = "give_phone_number"
    SET_UP_TWO_FACTOR = "set_up_two_factor"


STEP_TEXT = {
    # Formatted with the count: use ``step_text`` (str() of a plural text is empty).
    Step.FILL_IN_QUESTIONNAIRES: ngettext_lazy(
        "You have %(count)d questionnaire to fill in.",
        "You have %(count)d questionnaires to fill in.",
        "count",
    ),
    Step.FILL_IN_HEALTH_QUESTIONNAIRE: _(
        "Fill in your health questionnaire before your screening appointment: your medical history, "
        "medicines and the treatments you have tried."
    ),
    Step.SIGN_CONSENT: _("Read and sign your consent form."),
    Step.SET_INTENTIONS: _("Set your intentions for your course."),
    Step.PREPARE_FOR_APPOINTMENT: _("Read how to prepare for your next appointment."),
    Step.CLINIC_WILL_CONTACT: _("The clinic will contact you to arrange your screening appointment."),
    Step.CARE_TEAM_WILL_CONTACT: _(
        "Your care team has been chosen. They will contact you to arrange your screening appointment."
    ),
    Step.GIVE_PHONE_NUMBER: _(
        "The clinic has no phone number for you yet. Please email or call the clinic to give "
        "them one, so they can reach you quickly."
    ),
    Step.SET_UP_TWO_FACTOR: _(
        "Optional: protect your account with two-factor authentication, a code from an app "
        "on your phone at each sign-in."
    ),
}

# The page a step links to (a URL name), for the steps the patient takes in kapflow itself.
STEP_LINK = {
    Step.SET_UP_TWO_FACTOR: "accounts:two_factor",
    Step.PREPARE_FOR_APPOINTMENT: "portal_appointments:list",
    Step.SIGN_CONSENT: "portal_consent:sign",
    Step.SET_INTENTIONS: "portal_courses:course",
    Step.FILL_IN_HEALTH_QUESTIONNAIRE: "portal_screening:health",
}


def next_steps(facts: PortalFacts) -> list[Step]:
    """The steps that apply now, the most important first."""
    steps: list[Step] = []
    if facts.questionnaires_due > 0:
        steps.append(Step.FILL_IN_QUESTIONNAIRES)
    if facts.consent_to_sign:
        steps.append(Step.SIGN_CONSENT)
    if facts.intentions_to_set:
        steps.append(Step.SET_INTENTIONS)
    if not facts.health_questionnaire_done:
        steps.append(Step.FILL_IN_HEALTH_QUESTIONNAIRE)
    if not facts.has_phone:
        steps.append(Step.GIVE_PHONE_NUMBER)
    if facts.has_upcoming_appointment:
        steps.append(Step.PREPARE_FOR_APPOINTMENT)
    else:
        steps.append(Step.CARE_TEAM_WILL_CONTACT if facts.has_care_team else Step.CLINIC_WILL_CONTACT)
    if not facts.has_two_factor:
        steps.append(Step.SET_UP_TWO_FACTOR)
    return steps


def step_text(step: Step, facts: PortalFacts) -> str:
    """The words of a step, with the facts' numbers filled in."""
    return str(STEP_TEXT[step] % {"count": facts.questionnaires_due})
