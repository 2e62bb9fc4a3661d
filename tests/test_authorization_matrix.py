"""Who may use each route: every URL of the project, every persona, the status they get.

HOW TO ADD A ROUTE: give it a name, then add one row to MATRIX below:

    "app:name": Route(kwargs_builder, (anon, admin, desk, ther, presc, nurse, o_ther, o_admin, patient), data),

* ``kwargs_builder(world)`` returns the URL kwargs (it may create the object the URL needs).
  Routes under ``/c/<clinic>/`` use clinic "demo" and the world's objects (``world.patient``...).
* The tuple is the status of a GET by each persona, in PERSONAS order. "nurse" is a nurse of
  Demo who is NOT on Jordan's care team; "o_ther"/"o_admin" work at the Other clinic only.
  "patient" is Jordan signed in to the patient portal (``portal_user``): no clinic page
  exists for them (404), and the portal shows them their own record only.
  Anonymous visitors of clinic pages are sent to sign in (302). A POST-only route answers 405
  to those allowed to use it and 403/404 to those refused, so list 405 for the allowed ones.
* ``data`` is what a form on the route posts. Every persona refused on GET (403/404, or an
  anonymous 302) also POSTs it, and the test checks nothing in the database changed. Every
  persona allowed to use the route (200/405) POSTs it too (rolled back after each): 302 and
  something changed, unless POST_OUTCOMES declares otherwise for that persona (a draft's
  reader who is not its author is refused its POST, 403).

The test fails if a route has no row, or a row names a route that no longer exists.

The other dimensions reuse these rows (the table here is "own clinic" and, for Theo and
Priya, "own patient"):

* Other clinic: the Other clinic's people use Demo's address (404, in the table), and the
  Other clinic's admin uses Demo's record ids under the Other clinic's own address (404 and no
  change: ``test_the_other_clinics_admin_cannot_reach_our_records_through_their_own_clinic``).
* Other patient / own patient: tests/test_authorization_care_team.py requests every route of
  Jordan's record after Theo and Priya left his care team and Nico joined it; a new patient
  route either goes in its CLINIC_WIDE set or is refused to them, and Nico's differences are
  declared in NURSE_ON_TEAM.
* Another patient in the portal: Morgan (``another_portal_patient``) is refused every staff
  route exactly as Jordan's "patient" column says (GET here, POST in the refusal test), and
  finds none of Jordan's records in the portal (tests/test_authorization_care_team.py).
* Protected fields: tests/test_protected_fields.py posts each row's data again with forged
  protected values (another patient, author, signing time, status, version...).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from kapflow.accounts.models import Invitation, User
from kapflow.core.models import AccessLogEntry, AuditChainHead
from kapflow.core.roles import Role
from kapflow.intake.services import request_submit
from kapflow.patients.models import CareTeamMember, Patient
from kapflow.patients.services import patient_create
from kapflow.portal.models import PortalAccount, PortalInvitation
from tests.conftest import PASSWORD, make_member
from tests.patients.forms import as_posted, new_patient

PERSONAS = (
    "anonymous",
    "admin",
    "frontdesk",
    "therapist",
    "prescriber",
    "nurse",
    "other_therapist",
    "other_admin",
    "patient",
)
INVITATION_TOKEN = "matrix-invitation-token"
PORTAL_TOKEN = "matrix-portal-token"


@dataclass(frozen=True)
class Route:
    kwargs: Callable[[Any], dict[str, Any]]
    get: tuple[int, ...]  # one status per persona, in PERSONAS order
    data: Callable[[Any], dict[str, Any]] | None = None


# --- URL kwargs ---------------------------------------------------------------------------
def nothing(world):
    return {}


def demo(world):
    return {"clinic": "demo"}


def patient(world):
    return {"clinic": "demo", "patient_id": world.patient.public_id}


def team_row(world):
    row = CareTeamMember.objects.get(patient=world.patient, user=world.therapist.user)
    return dict(patient(world), row_id=row.pk)


def staff_member(world):
    return {"clinic": "demo", "membership_id": world.therapist.pk}


def staff_member_with_device(world):
    """A nurse of Demo (not one of the personas) with an authenticator app to reset."""
    member = make_member(world.demo, "sam@demo.test", "Sam Lost-Phone", Role.NURSE)
    TOTPDevice.objects.create(user=member.user, name="phone", confirmed=True)
    return {"clinic": "demo", "membership_id": member.pk}


def make_invitation(world) -> Invitation:
    return Invitation.objects.create(
        clinic=world.demo,
        email="newcomer@demo.test",
        role="therapist",
        token_hash=hashlib.sha256(INVITATION_TOKEN.encode()).hexdigest(),
        invited_by=world.admin.user,
        expires_at=timezone.now() + timedelta(days=7),
    )


def invitation(world):
    return {"clinic": "demo", "invitation_id": make_invitation(world).pk}


def invitation_token(world):
    make_invitation(world)
    return {"token": INVITATION_TOKEN}


def location(world):
    return {"clinic": "demo", "location_id": world.room.location_id}


def room(world):
    return {"clinic": "demo", "room_id": world.room.pk}


def reset_link(world):
    return {"uidb64": "MQ", "token": "not-a-valid-token"}


def casey(world) -> Patient:
    """A Demo patient with no portal account yet (Jordan has one: the "patient" persona)."""
    data = {"legal_given_name": "Casey", "legal_family_name": "Lee", "date_of_birth": date(1990, 5, 5)}
    return patient_create(member=world.frontdesk, data=data)


def uninvited_patient(world):
    return {"clinic": "demo", "patient_id": casey(world).public_id}


def portal_token(world):
    PortalInvitation.objects.create(
        clinic=world.demo,
        patient=casey(world),
        email="casey@example.org",
        token_hash=hashlib.sha256(PORTAL_TOKEN.encode()).hexdigest(),
        sent_by=world.frontdesk.user,
        expires_at=timezone.now() + timedelta(hours=72),
    )
    return {"token": PORTAL_TOKEN}


def appointment_request(world):
    data = {"name": "Riley Park", "email": "riley@example.org", "phone": "", "consent_to_contact": True}
    made = request_submit(clinic=world.demo, data=data, answers=None, source="matrix", link="http://x/{id}/")
    return {"clinic": "demo", "request_id": made.public_id}


def request_note(world):
    return dict(appointment_request(world), what="note")


def public_page(world):
    return {"clinic": "demo", "slug": "home"}


def demo_public(world):
    return {"clinic": "demo"}


def _phq9_request(world):
    from kapflow.measures.services import assignment_create

    made = assignment_create(
        member=world.therapist,
        patient=world.patient,
        instrument_key="phq9",
        schedule="once",
        starts_on=timezone.localdate(),
    )
    return made


def measure_assignment(world):
    return dict(patient(world), assignment_id=_phq9_request(world).public_id)


def measure_due(world):
    return dict(patient(world), request_id=_phq9_request(world).requests.get().public_id)


PHQ9_ANSWERS = {**{f"q{n}": "1" for n in range(1, 9)}, "q9": "0"}


def measure_response(world):
    from kapflow.measures.services import response_submit

    made = response_submit(
        request=_phq9_request(world).requests.get(), answers=PHQ9_ANSWERS, by=world.therapist.user
    )
    return dict(patient(world), response_id=made.public_id)


def measure_trend(world):
    return dict(patient(world), key="phq9")


def safety_alert(world):
    from kapflow.measures.services import response_submit

    answers = {**PHQ9_ANSWERS, "q9": "1"}
    made = response_submit(
        request=_phq9_request(world).requests.get(), answers=answers, by=world.therapist.user
    )
    return {"clinic": "demo", "alert_id": made.alerts.get().public_id}


# Patient questionnaires in the portal: Theo (on Jordan's care team) asks for a PHQ-9 due today.
def _portal_phq9(world):
    from kapflow.measures.services import assignment_create

    made = assignment_create(
        member=world.therapist,
        patient=world.patient,
        instrument_key="phq9",
        schedule="once",
        starts_on=timezone.localdate(timezone=world.demo.tzinfo),
    )
    return made.requests.get()


def portal_questionnaire(world):
    return {"request_id": _portal_phq9(world).public_id}


def portal_questionnaire_answered(world):
    """Every question answered, not yet submitted: the patient's Submit stores the response."""
    from kapflow.measures.services import draft_answer

    request = _portal_phq9(world)
    for n in range(1, 10):
        draft_answer(request=request, item_id=f"q{n}", value=0)
    return {"request_id": request.public_id}


def portal_questionnaire_submitted(world):
    from kapflow.measures.services import response_submit

    request = _portal_phq9(world)
    by = PortalAccount.objects.get(patient=world.patient).user
    response_submit(request=request, answers={f"q{n}": 0 for n in range(1, 10)}, by=by)
    return {"request_id": request.public_id}


def screened_patient(world):
    from decimal import Decimal

    from kapflow.screening.services import screening_record

    vitals = {
        "adequate_trials": 3,
        "systolic": 120,
        "diastolic": 80,
        "heart_rate": 70,
        "weight_kg": Decimal("70"),
        "height_cm": Decimal("175"),
    }
    screening_record(member=world.prescriber, patient=world.patient, data=vitals)
    return patient(world)


SCREENING_FORM = {
    "adequate_trials": "3",
    "systolic": "120",
    "diastolic": "80",
    "heart_rate": "70",
    "weight_kg": "70",
    "height_cm": "175",
}
HEALTH_FORM = {
    "pregnant_or_breastfeeding": "no",
    "psychosis": "no",
    "bipolar": "no",
    "antidepressant_trials": "2",
}
DECISION_FORM = {"outcome": "more_info", "reason": "Need a cardiology letter"}


# --- what each form posts -------------------------------------------------------------------
CONTACT = {
    "name": "Sam Visitor",
    "email": "sam@example.org",
    "phone": "",
    "preferred_contact": "email",
    "consent_to_contact": "on",
    "website": "",
    "prescreen_token": "",
}
CONVERT = {
    "legal_given_name": "Riley",
    "legal_family_name": "Park",
    "date_of_birth": "1991-01-01",
    "sex_at_birth": "unknown",
}


def room_data(world):
    return {"location": world.room.location_id, "name": "Matrix room", "kind": "other"}


def clinic_data(world):
    return {
        "name": "Renamed",
        "time_zone": "UTC",
        "crisis_line_text": "988",
        "idle_timeout_minutes": 20,
        "alert_hours_high": 2,
        "alert_hours_moderate": 12,
        "preparation_visits_required": 1,
        "integration_due_days": 2,
        "appointment_notice_hours": 12,
        "reminder_hours": "24",
        "dosing_setup_minutes": 15,
        "turnover_minutes": 10,
        "report_min_group": 3,
    }


# fmt: off
MATRIX: dict[str, Route] = {
    # route                          kwargs            anon admin desk ther presc nurse o_ther o_admin patient   data
    "home":                          Route(nothing,    (302, 302, 302, 302, 302, 302, 302, 302, 302)),
    "healthz":                       Route(nothing,    (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    "accounts:login":                Route(nothing,    (200, 302, 302, 302, 302, 302, 302, 302, 302)),
    "accounts:login_verify":         Route(nothing,    (302, 302, 302, 302, 302, 302, 302, 302, 302)),
    "accounts:logout":               Route(nothing,    (405, 405, 405, 405, 405, 405, 405, 405, 405)),
    "accounts:keepalive":            Route(nothing,    (405, 405, 405, 405, 405, 405, 405, 405, 405)),
    "accounts:two_factor":           Route(nothing,    (302, 200, 200, 200, 200, 200, 200, 200, 200)),
    "accounts:choose_clinic":        Route(nothing,    (302, 302, 302, 302, 302, 302, 302, 302, 302)),
    "accounts:invitation":           Route(invitation_token, (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    "accounts:password_change":      Route(nothing,    (302, 200, 200, 200, 200, 200, 200, 200, 200)),
    "accounts:password_change_done": Route(nothing,    (302, 200, 200, 200, 200, 200, 200, 200, 200)),
    "accounts:password_reset":       Route(nothing,    (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    "accounts:password_reset_done":  Route(nothing,    (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    "accounts:password_reset_confirm": Route(reset_link, (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    "accounts:password_reset_complete": Route(nothing, (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    "clinic_home":                   Route(demo,       (302, 200, 200, 200, 200, 200, 404, 404, 404)),
    "patients:list":                 Route(demo,       (302, 200, 200, 200, 200, 200, 404, 404, 404)),
    "patients:create":               Route(demo,       (302, 200, 200, 403, 403, 403, 404, 404, 404), lambda w: new_patient()),
    "patients:chart":                Route(patient,    (302, 200, 200, 200, 200, 200, 404, 404, 404)),
    "patients:edit":                 Route(patient,    (302, 200, 200, 200, 200, 403, 404, 404, 404), lambda w: as_posted(w.patient, phone="+1 720 555 0000")),
    "patients:clinical":             Route(patient,    (302, 403, 403, 200, 200, 403, 404, 404, 404), lambda w: {"allergies": "Latex"}),
    "patients:care_team_add":        Route(patient,    (302, 405, 405, 403, 403, 403, 404, 404, 404), lambda w: {"member": w.nurse.pk}),
    "patients:care_team_remove":     Route(team_row,   (302, 405, 405, 403, 403, 403, 404, 404, 404), lambda w: {}),
    "patients:print":                Route(patient,    (302, 200, 200, 200, 200, 200, 404, 404, 404)),
    "staff:list":                    Route(demo,       (302, 200, 403, 403, 403, 403, 404, 404, 404)),
    "staff:invite":                  Route(demo,       (302, 200, 403, 403, 403, 403, 404, 404, 404), lambda w: {"email": "x@demo.test", "full_name": "X", "role": "nurse"}),
    "staff:invitation_revoke":       Route(invitation, (302, 405, 403, 403, 403, 403, 404, 404, 404), lambda w: {}),
    "staff:detail":                  Route(staff_member, (302, 200, 403, 403, 403, 403, 404, 404, 404), lambda w: {"role": "nurse"}),
    "staff:set_active":              Route(staff_member, (302, 405, 403, 403, 403, 403, 404, 404, 404), lambda w: {"active": "0"}),
    "staff:reset_two_factor":        Route(staff_member_with_device, (302, 405, 403, 403, 403, 403, 404, 404, 404), lambda w: {}),
    "clinics:settings":              Route(demo,       (302, 200, 403, 403, 403, 403, 404, 404, 404), clinic_data),
    "clinics:location_create":       Route(demo,       (302, 200, 403, 403, 403, 403, 404, 404, 404), lambda w: {"name": "Annex"}),
    "clinics:location_edit":         Route(location,   (302, 200, 403, 403, 403, 403, 404, 404, 404), lambda w: {"name": "Renamed"}),
    "clinics:room_create":           Route(demo,       (302, 200, 403, 403, 403, 403, 404, 404, 404), room_data),
    "clinics:room_edit":             Route(room,       (302, 200, 403, 403, 403, 403, 404, 404, 404), room_data),
    "core:audit_log":                Route(demo,       (302, 200, 403, 403, 403, 403, 404, 404, 404)),
    "portal_staff:invite":           Route(uninvited_patient, (302, 405, 405, 403, 403, 403, 404, 404, 404), lambda w: {"email": "casey@example.org"}),
    # The patient portal: no patient id in any URL; staff have no portal account (404).
    "portal:home":                   Route(nothing,    (302, 404, 404, 404, 404, 404, 404, 404, 200)),
    # Patient questionnaires in the portal: the patient's own requests only; staff have no portal account.
    "portal_measures:answer":        Route(portal_questionnaire, (302, 404, 404, 404, 404, 404, 404, 404, 200), lambda w: {"item": "q1", "answer": "1"}),
    "portal_measures:submit":        Route(portal_questionnaire_answered, (302, 404, 404, 404, 404, 404, 404, 404, 405), lambda w: {}),
    "portal_measures:done":          Route(portal_questionnaire_submitted, (302, 404, 404, 404, 404, 404, 404, 404, 200)),
    # The public site: the default clinic at /, every clinic under /clinics/<slug>/.
    "public:home":                   Route(nothing,    (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    "public:how":                    Route(nothing,    (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    "public:prescreen":              Route(nothing,    (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    "public:contact":                Route(nothing,    (200, 200, 200, 200, 200, 200, 200, 200, 200), lambda w: CONTACT),
    "public:thanks":                 Route(nothing,    (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    "clinic_public:home":            Route(demo_public, (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    "clinic_public:how":             Route(demo_public, (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    "clinic_public:prescreen":       Route(demo_public, (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    "clinic_public:contact":         Route(demo_public, (200, 200, 200, 200, 200, 200, 200, 200, 200), lambda w: CONTACT),
    "clinic_public:thanks":          Route(demo_public, (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    # The triage queue: front desk and clinic admin only.
    "intake:queue":                  Route(demo,       (302, 200, 200, 403, 403, 403, 404, 404, 404)),
    "intake:detail":                 Route(appointment_request, (302, 200, 200, 403, 403, 403, 404, 404, 404)),
    "intake:convert":                Route(appointment_request, (302, 200, 200, 403, 403, 403, 404, 404, 404), lambda w: CONVERT),
    "intake:act":                    Route(request_note, (302, 405, 405, 403, 403, 403, 404, 404, 404), lambda w: {"note-text": "Called back"}),
    "intake:edit_page":              Route(public_page, (302, 200, 403, 403, 403, 403, 404, 404, 404), lambda w: {"title": "Welcome", "body": "Our text."}),
    # Measures: clinical data, for the clinicians on the care team (Theo, Priya); the nurse is not.
    "measures:overview":             Route(patient,    (302, 403, 403, 200, 200, 403, 404, 404, 404)),
    "measures:assign":               Route(patient,    (302, 403, 403, 200, 200, 403, 404, 404, 404), lambda w: {"instrument": "gad7", "schedule": "once", "starts_on": "2026-01-01"}),
    "measures:stop":                 Route(measure_assignment, (302, 403, 403, 405, 405, 403, 404, 404, 404), lambda w: {}),
    "measures:enter":                Route(measure_due, (302, 403, 403, 200, 200, 403, 404, 404, 404), lambda w: PHQ9_ANSWERS),
    "measures:response":             Route(measure_response, (302, 403, 403, 200, 200, 403, 404, 404, 404)),
    "measures:correct":              Route(measure_response, (302, 403, 403, 200, 200, 403, 404, 404, 404), lambda w: {**PHQ9_ANSWERS, "q1": "3", "reason": "misread"}),
    "measures:trajectory":           Route(measure_trend, (302, 403, 403, 200, 200, 403, 404, 404, 404)),
    "measures:trajectory_svg":       Route(measure_trend, (302, 403, 403, 200, 200, 403, 404, 404, 404)),
    "measures:alert":                Route(safety_alert, (302, 403, 403, 200, 200, 403, 404, 404, 404), lambda w: {"action_taken": "Called the patient"}),
    "measures:instruments":          Route(demo,       (302, 200, 403, 403, 403, 403, 404, 404, 404)),
    # Screening and eligibility: medical professionals record, only the prescriber decides.
    "screening:overview":            Route(patient,    (302, 403, 403, 200, 200, 403, 404, 404, 404)),
    "screening:new":                 Route(patient,    (302, 403, 403, 403, 200, 403, 404, 404, 404), lambda w: SCREENING_FORM),
    "screening:decide":              Route(screened_patient, (302, 403, 403, 403, 200, 403, 404, 404, 404), lambda w: DECISION_FORM),
    "screening:rules":               Route(demo,       (302, 200, 403, 403, 403, 403, 404, 404, 404)),
    "portal_screening:health":       Route(nothing,    (302, 404, 404, 404, 404, 404, 404, 404, 200), lambda w: HEALTH_FORM),
    "portal:join":                   Route(portal_token, (200, 200, 200, 200, 200, 200, 200, 200, 200), lambda w: {"password1": "casey-long-passphrase", "password2": "casey-long-passphrase"}),
}
# fmt: on


# Informed consent ----------------------------------------------------------------------------
# The clinic admin publishes the form; Jordan (the "patient" persona) signs it in the portal.
# Anyone who may see the chart may witness and download the PDF; only clinicians on the care
# team record a withdrawal. Portal routes take no patient id: the patient's own signatures only.
def _consent_signature(world):
    from kapflow.consent.services import consent_sign, template_publish

    template = template_publish(member=world.admin, title="Consent", body="## Risks\nRaised blood pressure.")
    user = PortalAccount.objects.get(patient=world.patient).user
    return consent_sign(
        user=user, patient=world.patient, template=template, typed_name="Jordan Rivera", confirmed=True
    )


def consent_signature(world):
    return dict(patient(world), signature_id=_consent_signature(world).public_id)


def consent_published(world):
    from kapflow.consent.services import template_publish

    template_publish(member=world.admin, title="Consent", body="## Risks\nRaised blood pressure.")
    return {}


def portal_consent_signature(world):
    return {"signature_id": _consent_signature(world).public_id}


CONSENT_PORTAL_KWARGS = (consent_published, portal_consent_signature)
# fmt: off
MATRIX.update({
    "consent:templates":             Route(demo,       (302, 200, 403, 403, 403, 403, 404, 404, 404), lambda w: {"title": "Consent v2", "body": "New text."}),
    "consent:witness":               Route(consent_signature, (302, 405, 405, 405, 405, 405, 404, 404, 404), lambda w: {}),
    "consent:withdraw":              Route(consent_signature, (302, 403, 403, 405, 405, 403, 404, 404, 404), lambda w: {"reason": "Phoned the clinic"}),
    "consent:pdf":                   Route(consent_signature, (302, 200, 200, 200, 200, 200, 404, 404, 404)),
    "portal_consent:sign":           Route(consent_published, (302, 404, 404, 404, 404, 404, 404, 404, 200), lambda w: {"version": "1", "typed_name": "Jordan Rivera", "confirmed": "on"}),
    "portal_consent:pdf":            Route(portal_consent_signature, (302, 404, 404, 404, 404, 404, 404, 404, 200)),
    "portal_consent:withdraw":       Route(portal_consent_signature, (302, 404, 404, 404, 404, 404, 404, 404, 405), lambda w: {"reason": ""}),
})
# fmt: on
# End of informed consent ---------------------------------------------------------------------


# Psychotherapy notes and the patient's course ----------------------------------------------
# A psychotherapy note: only therapists on the care team open the list or start one; a note
# itself answers 404 to everyone but its author (the clinic setting is off), even the admin.
# The patient's course in the portal: their own open course only, no id in any URL.
def psychotherapy_note(world):
    from kapflow.courses.psychotherapy_services import note_create

    made = note_create(member=world.therapist, patient=world.patient, text="Matrix note")
    return {"clinic": "demo", "note_id": made.public_id}


def portal_course(world):
    from kapflow.courses.models import TreatmentCourse

    if TreatmentCourse.objects.filter(patient=world.patient, status="active").exists():
        return {}
    TreatmentCourse.objects.create(
        clinic=world.demo,
        patient=world.patient,
        route="sublingual",
        planned_dosing_sessions=2,
        status="active",
        starts_on=timezone.localdate(),
    )
    return {}


COURSE_PORTAL_KWARGS = (portal_course,)
# fmt: off
MATRIX.update({
    "psychotherapy:list":            Route(patient,    (302, 403, 403, 200, 403, 403, 404, 404, 404)),
    "psychotherapy:new":             Route(patient,    (302, 403, 403, 200, 403, 403, 404, 404, 404), lambda w: {"text": "A new note"}),
    "psychotherapy:note":            Route(psychotherapy_note, (302, 404, 404, 200, 404, 404, 404, 404, 404), lambda w: {"text": "Revised", "version": "1"}),
    "psychotherapy:sign":            Route(psychotherapy_note, (302, 404, 404, 405, 404, 404, 404, 404, 404), lambda w: {"version": "1"}),
    "portal_courses:course":         Route(portal_course, (302, 404, 404, 404, 404, 404, 404, 404, 200)),
    "portal_courses:intention":      Route(portal_course, (302, 404, 404, 404, 404, 404, 404, 404, 405), lambda w: {"intention-text": "Be present"}),
    "portal_courses:journal":        Route(portal_course, (302, 404, 404, 404, 404, 404, 404, 404, 405), lambda w: {"journal-text": "It went well", "journal-shared": "on"}),
})
# fmt: on
# End of psychotherapy notes and the patient's course ----------------------------------------


# Treatment courses ---------------------------------------------------------------------------
# Clinical: the clinicians on Jordan's care team (Theo, Priya); never front desk or admin, not
# the nurse off the team. Only a draft's author (Theo) edits or signs it; anyone on the team
# reads it and adds addenda to a signed note.
def _matrix_course(world):
    from kapflow.courses.services import course_create

    return course_create(
        member=world.therapist,
        patient=world.patient,
        route="sublingual",
        planned_dosing_sessions=4,
        therapist_ids=[world.therapist.user_id],
        medical_ids=[world.prescriber.user_id],
        starts_on=date(2026, 1, 5),
    )


def course(world):
    return {"clinic": "demo", "course_id": _matrix_course(world).public_id}


def _matrix_note(world):
    from kapflow.courses.services import visit_create

    return visit_create(
        member=world.therapist, course=_matrix_course(world), kind="preparation", happened_on=date(2026, 1, 6)
    ).note


def draft_note(world):
    return {"clinic": "demo", "note_id": _matrix_note(world).public_id}


def signed_note(world):
    from kapflow.courses.services import note_sign

    note = note_sign(member=world.therapist, note=_matrix_note(world), base_version=1)
    return {"clinic": "demo", "note_id": note.public_id}


def course_form(world):
    return {
        "route": "sublingual",
        "planned_dosing_sessions": "4",
        "therapists": [str(world.therapist.user_id)],
        "medical": [str(world.prescriber.user_id)],
        "starts_on": "2026-01-05",
    }


# fmt: off
MATRIX.update({
    "courses:patient":               Route(patient,    (302, 403, 403, 200, 200, 403, 404, 404, 404)),
    "courses:new":                   Route(patient,    (302, 403, 403, 200, 200, 403, 404, 404, 404), course_form),
    "courses:course":                Route(course,     (302, 403, 403, 200, 200, 403, 404, 404, 404)),
    "courses:status":                Route(course,     (302, 403, 403, 405, 405, 403, 404, 404, 404), lambda w: {"status": "active"}),
    "courses:visit_new":             Route(course,     (302, 403, 403, 200, 200, 403, 404, 404, 404), lambda w: {"kind": "preparation", "happened_on": "2026-01-06"}),
    "courses:note":                  Route(draft_note, (302, 403, 403, 200, 200, 403, 404, 404, 404), lambda w: {"version": "1", "readiness": "Ready"}),
    "courses:autosave":              Route(draft_note, (302, 403, 403, 405, 405, 403, 404, 404, 404)),
    "courses:sign":                  Route(draft_note, (302, 403, 403, 405, 405, 403, 404, 404, 404), lambda w: {"version": "1"}),
    "courses:addendum":              Route(signed_note, (302, 403, 403, 405, 405, 403, 404, 404, 404), lambda w: {"text": "Checked again"}),
})
# fmt: on
# End of treatment courses --------------------------------------------------------------------


# Dosing protocols (clinic admin) -------------------------------------------------------------
# Clinic settings, not patient records: only Demo's admin opens them. Each clinic has its own
# protocol per route (the shipped example until its admin saves one), so the Other clinic's
# admin reaches their own at their own address: these are not object routes.
def protocol_route(world):
    return {"clinic": "demo", "route": "sublingual"}


def protocol_version(world):
    return {"clinic": "demo", "route": "sublingual", "version": 1}


def protocol_form(world):
    from kapflow.dosing.protocol import example
    from kapflow.dosing.protocol_forms import initial_for

    data = {
        name: "" if value is None else value if isinstance(value, list) else str(value)
        for name, value in initial_for(example("sublingual"), 1).items()
        if value is not False
    }
    return {**data, "dose_max": "300", "change_note": "Matrix: highest dose 300 mg"}


PROTOCOL_KWARGS = (protocol_route, protocol_version)
# fmt: off
MATRIX.update({
    "protocols:list":                Route(demo,       (302, 200, 403, 403, 403, 403, 404, 404, 404)),
    "protocols:edit":                Route(protocol_route, (302, 200, 403, 403, 403, 403, 404, 404, 404), protocol_form),
    "protocols:history":             Route(protocol_route, (302, 200, 403, 403, 403, 403, 404, 404, 404)),
    "protocols:version":             Route(protocol_version, (302, 200, 403, 403, 403, 403, 404, 404, 404)),
})
# fmt: on
# End of dosing protocols ---------------------------------------------------------------------


# Dosing sessions ------------------------------------------------------------------------------
# Read by the clinicians on the care team (Theo, Priya); check-in, pre-dose record, readings,
# overrides, administration and discharge by medical professionals on the care team only
# (Priya; the therapist and the nurse who is not on the team are refused); events, guide notes
# and addenda by any clinician on the care team. Front desk and clinic admin never see them.
def _ready_course(world):
    from tests.dosing.helpers import make_ready

    return make_ready(world)


def _session(world, vitals=(124, 80)):
    from tests.dosing.helpers import checked_in, make_lot

    make_lot(world)
    return checked_in(world, _ready_course(world), vitals=vitals)


def dosing_course(world):
    return {"clinic": "demo", "course_id": _ready_course(world).public_id}


def dosing_session(world):
    return {"clinic": "demo", "session_id": _session(world).public_id}


def caution_session(world):
    return {"clinic": "demo", "session_id": _session(world, vitals=(150, 85)).public_id}


def dosed_session(world):
    from tests.dosing.helpers import dosed, make_lot

    return {"clinic": "demo", "session_id": dosed(world, _ready_course(world), make_lot(world)).public_id}


def dischargeable_session(world):
    from kapflow.dosing import services
    from tests.dosing.helpers import backdate, dosed, make_lot

    session = dosed(world, _ready_course(world), make_lot(world))
    backdate(session, 125)
    services.reading_record(
        member=world.prescriber, session=session, kind="vitals", values={"systolic": 122, "diastolic": 78}
    )
    services.reading_record(member=world.prescriber, session=session, kind="moaas", moaas=5)
    return {"clinic": "demo", "session_id": session.public_id}


def vitals_reading(world):
    return dict(dosing_session(world), kind="vitals")


def administration_form(world):
    from kapflow.dosing.models import DosingSession, StockLot

    session = DosingSession.objects.get()
    return {
        "dose-dose_mg": "200",
        "dose-lot": str(StockLot.objects.get().pk),
        "dose-version": str(session.version),
    }


PREDOSE_FORM = {
    "predose-fasting_confirmed": "on",
    "predose-escort_confirmed": "on",
    "predose-escort_name": "Sam",
    "predose-intentions_reviewed": "on",
    "predose-pregnancy_test": "not_applicable",
    "predose-concomitant_medications": "None today",
}
# fmt: off
MATRIX.update({
    "dosing:patient":                Route(patient,    (302, 403, 403, 200, 200, 403, 404, 404, 404)),
    "dosing:check_in":               Route(dosing_course, (302, 403, 403, 403, 200, 403, 404, 404, 404), lambda w: {}),
    "dosing:session":                Route(dosing_session, (302, 403, 403, 200, 200, 403, 404, 404, 404)),
    "dosing:live":                   Route(dosed_session, (302, 403, 403, 200, 200, 403, 404, 404, 404)),
    "dosing:pdf":                    Route(dosed_session, (302, 403, 403, 200, 200, 403, 404, 404, 404)),
    "dosing:predose":                Route(dosing_session, (302, 403, 403, 403, 405, 403, 404, 404, 404), lambda w: {**PREDOSE_FORM, "predose-concomitant_medications": "Changed"}),
    "dosing:reading":                Route(vitals_reading, (302, 403, 403, 403, 405, 403, 404, 404, 404), lambda w: {"vitals-systolic": "130", "vitals-diastolic": "82"}),
    "dosing:override":               Route(caution_session, (302, 403, 403, 403, 405, 403, 404, 404, 404), lambda w: {"override-check": "vitals", "override-reason": "Anxious; 138/84 at home"}),
    "dosing:administer":             Route(dosing_session, (302, 403, 403, 403, 405, 403, 404, 404, 404), administration_form),
    "dosing:cancel":                 Route(dosing_session, (302, 403, 403, 403, 405, 403, 404, 404, 404), lambda w: {"cancel-reason": "Felt unwell"}),
    "dosing:discharge":              Route(dischargeable_session, (302, 403, 403, 403, 405, 403, 404, 404, 404), lambda w: {"discharge-confirmed": ["walks_unaided", "escort_present", "no_driving"]}),
    "dosing:event":                  Route(dosed_session, (302, 403, 403, 405, 405, 403, 404, 404, 404), lambda w: {"event-kind": "nausea_vomiting", "event-severity": "mild", "event-outcome": "resolved"}),
    "dosing:addendum":               Route(dosing_session, (302, 403, 403, 405, 405, 403, 404, 404, 404), lambda w: {"addendum-text": "Called: well"}),
    "dosing:guide_note":             Route(dosing_session, (302, 403, 403, 405, 405, 403, 404, 404, 404), lambda w: {}),
})
# fmt: on
# End of dosing sessions ----------------------------------------------------------------------


# Controlled-substance ledger -----------------------------------------------------------------
# Clinic-wide, not care-team: prescribers and nurses (Nico too) read and record; the clinic
# admin reads only (403 on receive, waste and count); therapists and front desk are refused
# every page. A lot of another clinic is not found (404) through any clinic's address.
def stock_lot(world):
    from tests.dosing.helpers import make_lot

    return {"clinic": "demo", "lot_id": make_lot(world).public_id}


def stock_receive_form(world):
    return {
        "receive-lot_number": "MATRIX-1",
        "receive-form": "100 mg troche",
        "receive-quantity_mg": "500",
        "receive-expires_on": (timezone.localdate() + timedelta(days=365)).isoformat(),
        "receive-supplier": "",
    }


# fmt: off
MATRIX.update({
    "stock:lots":                    Route(demo,       (302, 200, 403, 403, 200, 200, 404, 404, 404)),
    "stock:receive":                 Route(demo,       (302, 403, 403, 403, 405, 405, 404, 404, 404), stock_receive_form),
    "stock:lot":                     Route(stock_lot,  (302, 200, 403, 403, 200, 200, 404, 404, 404)),
    "stock:waste":                   Route(stock_lot,  (302, 403, 403, 403, 405, 405, 404, 404, 404), lambda w: {"waste-quantity_mg": "10", "waste-witness": str(w.nurse.user_id), "waste-reason": "Dropped"}),
    "stock:count":                   Route(stock_lot,  (302, 403, 403, 403, 405, 405, 404, 404, 404), lambda w: {"count-counted_mg": "1990", "count-witness": str(w.nurse.user_id), "count-reason": "Crumbled"}),
    "stock:report":                  Route(demo,       (302, 200, 403, 403, 200, 200, 404, 404, 404)),
    "stock:report_csv":              Route(demo,       (302, 200, 403, 403, 200, 200, 404, 404, 404)),
})
# fmt: on
# End of controlled-substance ledger ----------------------------------------------------------


# Calendars and feeds --------------------------------------------------------------------------
# Every staff role reads the calendars and the board (names and kinds only, never clinical
# detail) and keeps calendar feeds of their own. Revoking a feed: its owner only (Alex here);
# anyone else's feed is not found. The public feed needs no sign-in: its secret token is the
# key, so every persona gets the same 200 with a valid token.
FEED_TOKEN = "matrix-calendar-feed-token"


def calendar_feed(world):
    from kapflow.scheduling.models import CalendarFeed

    feed, _created = CalendarFeed.objects.get_or_create(
        clinic=world.demo, user=world.admin.user, token_hash=hashlib.sha256(b"matrix-admin-feed").hexdigest()
    )
    return {"clinic": "demo", "feed_id": feed.pk}


def feed_token(world):
    from kapflow.scheduling.models import CalendarFeed

    CalendarFeed.objects.get_or_create(
        clinic=world.demo,
        user=world.therapist.user,
        token_hash=hashlib.sha256(FEED_TOKEN.encode()).hexdigest(),
    )
    return {"token": FEED_TOKEN}


CALENDAR_KWARGS = (feed_token,)

# fmt: off
MATRIX.update({
    "calendar:day":                  Route(demo,       (302, 200, 200, 200, 200, 200, 404, 404, 404)),
    "calendar:week":                 Route(demo,       (302, 200, 200, 200, 200, 200, 404, 404, 404)),
    "calendar:today":                Route(demo,       (302, 200, 200, 200, 200, 200, 404, 404, 404)),
    "calendar:today_rows":           Route(demo,       (302, 200, 200, 200, 200, 200, 404, 404, 404)),
    "calendar:feeds":                Route(demo,       (302, 200, 200, 200, 200, 200, 404, 404, 404)),
    "calendar:feed_revoke":          Route(calendar_feed, (302, 405, 404, 404, 404, 404, 404, 404, 404), lambda w: {}),
    "feeds:ics":                     Route(feed_token, (200, 200, 200, 200, 200, 200, 200, 200, 200)),
})
# fmt: on
# End of calendars and feeds -------------------------------------------------------------------


# Portal appointments ---------------------------------------------------------------------------
# The patient's own appointments: no patient id in any URL, an appointment's id finds only the
# signed-in patient's own (Jordan's, three days ahead: outside the notice period). Staff have no
# portal account (404); anonymous visitors are sent to sign in.
def portal_appointment(world):
    from kapflow.scheduling.models import Appointment

    starts_at = timezone.now() + timedelta(days=3)
    appointment = Appointment.objects.create(
        clinic=world.demo,
        patient=world.patient,
        kind="preparation",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        room=world.room,
    )
    return {"appointment_id": appointment.public_id}


APPOINTMENT_PORTAL_KWARGS = (portal_appointment,)
# fmt: off
MATRIX.update({
    "portal_appointments:list":      Route(nothing,    (302, 404, 404, 404, 404, 404, 404, 404, 200)),
    "portal_appointments:cancel":    Route(portal_appointment, (302, 404, 404, 404, 404, 404, 404, 404, 200), lambda w: {"reason": "Flu"}),
    "portal_appointments:change":    Route(portal_appointment, (302, 404, 404, 404, 404, 404, 404, 404, 200), lambda w: {"text": "Any morning next week"}),
    "portal_appointments:ics":       Route(portal_appointment, (302, 404, 404, 404, 404, 404, 404, 404, 200)),
})
# fmt: on
# End of portal appointments --------------------------------------------------------------------


# Scheduling ------------------------------------------------------------------------------------
# Every staff role books and reads appointments (names, kinds and times; no clinical detail);
# the clinic admin sets hours, appointment types and closures. Patients have their own pages in
# the portal. A dosing appointment's check-in opens the session only for the medical team.
def _future_appointment(world, *, days: int = 7):
    from tests.scheduling.helpers import at, book, weekday_ahead

    return book(world, start=at(weekday_ahead(days), 10))


def _direct_appointment(world, *, start, status):
    from kapflow.scheduling.models import Appointment, AppointmentStaff

    appointment = Appointment.objects.create(
        clinic=world.demo,
        patient=world.patient,
        kind="follow_up",
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        status=status,
    )
    AppointmentStaff.objects.create(appointment=appointment, user=world.therapist.user, role="therapist")
    return appointment


def appointment(world):
    return {"clinic": "demo", "appointment_id": _future_appointment(world).public_id}


def appointment_today(world):
    from kapflow.scheduling.models import WorkingHours
    from tests.scheduling.helpers import DENVER

    now = timezone.localtime(timezone.now(), DENVER)
    WorkingHours.objects.create(clinic=world.demo, weekday=now.weekday(), starts="00:00", ends="23:59")
    start = min(now + timedelta(minutes=5), now.replace(hour=23, minute=20))
    return {
        "clinic": "demo",
        "appointment_id": _direct_appointment(world, start=start, status="booked").public_id,
    }


def appointment_past(world):
    start = timezone.now() - timedelta(hours=3)
    return {
        "clinic": "demo",
        "appointment_id": _direct_appointment(world, start=start, status="booked").public_id,
    }


def appointment_checked_in(world):
    start = timezone.now() - timedelta(minutes=10)
    return {
        "clinic": "demo",
        "appointment_id": _direct_appointment(world, start=start, status="checked_in").public_id,
    }


def booking_form(world):
    from tests.scheduling.helpers import weekday_ahead

    return {
        "patient": str(world.patient.pk),
        "kind": "preparation",
        "day": weekday_ahead(9).isoformat(),
        "time": "11:00",
        "staff": [str(world.therapist.user_id)],
        "action": "book",
    }


def move_form(world):
    from tests.scheduling.helpers import weekday_ahead

    return {"day": weekday_ahead(7).isoformat(), "time": "14:00", "staff": [str(world.therapist.user_id)]}


def plan_course(world):
    from tests.dosing.helpers import make_ready

    return {"clinic": "demo", "course_id": make_ready(world).public_id}


def plan_form(world):
    from tests.scheduling.helpers import weekday_ahead

    day = weekday_ahead(5).isoformat()
    return {
        "start_day": day,
        "room": str(world.room.pk),
        "therapist": str(world.therapist.user_id),
        "medical": str(world.prescriber.user_id),
        "action": "confirm",
        "rows": "1",
        "row-0-kind": "dosing",
        "row-0-day": day,
        "row-0-time": "09:00",
        "row-0-include": "on",
    }


def staff_member_hours(world):
    return {"clinic": "demo", "membership_id": world.therapist.pk}


def appointment_kind(world):
    return {"clinic": "demo", "kind": "preparation"}


def closure(world):
    from kapflow.scheduling.models import Unavailability

    start = timezone.now() + timedelta(days=30)
    closure = Unavailability.objects.create(
        clinic=world.demo,
        starts_at=start,
        ends_at=start + timedelta(hours=8),
        reason="Training",
        created_by=world.admin.user,
    )
    return {"clinic": "demo", "closure_id": closure.public_id}


def closure_form(world):
    return {"starts_at": "2027-01-04T08:00", "ends_at": "2027-01-04T18:00", "reason": "Team day"}


# fmt: off
MATRIX.update({
    "scheduling:book":               Route(demo,       (302, 200, 200, 200, 200, 200, 404, 404, 404), booking_form),
    "scheduling:appointment":        Route(appointment, (302, 200, 200, 200, 200, 200, 404, 404, 404)),
    "scheduling:check_in":           Route(appointment_today, (302, 405, 405, 405, 405, 405, 404, 404, 404), lambda w: {}),
    "scheduling:no_show":            Route(appointment_past, (302, 405, 405, 405, 405, 405, 404, 404, 404), lambda w: {}),
    "scheduling:complete":           Route(appointment_checked_in, (302, 405, 405, 405, 405, 405, 404, 404, 404), lambda w: {}),
    "scheduling:cancel":             Route(appointment, (302, 405, 405, 405, 405, 405, 404, 404, 404), lambda w: {"reason": "Unwell"}),
    "scheduling:move":               Route(appointment, (302, 405, 405, 405, 405, 405, 404, 404, 404), move_form),
    "scheduling:patient":            Route(patient,    (302, 200, 200, 200, 200, 200, 404, 404, 404)),
    "scheduling:plan":               Route(plan_course, (302, 200, 200, 200, 200, 200, 404, 404, 404), plan_form),
    "scheduling:hours":              Route(demo,       (302, 200, 403, 403, 403, 403, 404, 404, 404), lambda w: {"d0_from": "09:00", "d0_until": "17:00"}),
    "scheduling:staff_hours":        Route(staff_member_hours, (302, 200, 403, 403, 403, 403, 404, 404, 404), lambda w: {"d0_from": "09:00", "d0_until": "13:00"}),
    "scheduling:type":               Route(appointment_kind, (302, 200, 403, 403, 403, 403, 404, 404, 404), lambda w: {"duration_minutes": "75", "needs_therapist": "on"}),
    "scheduling:closure_add":        Route(demo,       (302, 405, 403, 403, 403, 403, 404, 404, 404), closure_form),
    "scheduling:closure_remove":     Route(closure,    (302, 405, 403, 403, 403, 403, 404, 404, 404), lambda w: {}),
})
# fmt: on
# End of scheduling ------------------------------------------------------------------------------


# Outcomes dashboard and exports ----------------------------------------------------------------
# Clinic-wide reports, not records: the clinic admin, prescribers and nurses (Nico too: no care
# team needed) see the dashboard and download its tables and the de-identified research export;
# therapists and front desk are refused. The Other clinic's people have no membership at Demo's
# address (404); at their own they see their own clinic's figures only.
# fmt: off
MATRIX.update({
    "outcomes:dashboard":            Route(demo,       (302, 200, 403, 403, 200, 200, 404, 404, 404)),
    "outcomes:dashboard_csv":        Route(demo,       (302, 200, 403, 403, 200, 200, 404, 404, 404)),
    "outcomes:research_csv":         Route(demo,       (302, 200, 403, 403, 200, 200, 404, 404, 404)),
})
# fmt: on
# End of outcomes dashboard and exports ---------------------------------------------------------


# Course outcomes -------------------------------------------------------------------------------
# A course's chart (SVG) and its patient progress summary (PDF, audited as an export): clinical,
# so the clinicians on Jordan's care team (Theo, Priya) only, as the course page; front desk, the
# admin and the nurse who is not on the team are refused; other clinics find nothing.
# fmt: off
MATRIX.update({
    "outcomes:course_chart":         Route(course,     (302, 403, 403, 200, 200, 403, 404, 404, 404)),
    "outcomes:course_pdf":           Route(course,     (302, 403, 403, 200, 200, 403, 404, 404, 404)),
})
# fmt: on
# End of course outcomes ------------------------------------------------------------------------


# Personal API tokens -------------------------------------------------------------------------
# In the signed-in person's profile: every staff member lists and makes their own tokens; a
# token's page and its revocation answer its owner only (Theo here), anyone else finds nothing
# (404). A patient's portal sign-in has no tokens (404). Making one answers with the secret
# (shown once), not a redirect, so that row posts no data (as the calendar feeds).
def api_token(world):
    from kapflow.api.tokens import token_create

    token, _secret = token_create(
        user=world.therapist.user, membership=world.therapist, name="Matrix", read_only=True
    )
    return {"token_id": token.public_id}


API_TOKEN_KWARGS = (api_token,)
# fmt: off
MATRIX.update({
    "accounts:api_tokens":           Route(nothing,    (302, 200, 200, 200, 200, 200, 200, 200, 404)),
    "accounts:api_token_create":     Route(nothing,    (302, 200, 200, 200, 200, 200, 200, 200, 404)),
    "accounts:api_token":            Route(api_token,  (302, 404, 404, 200, 404, 404, 404, 404, 404)),
    "accounts:api_token_revoke":     Route(api_token,  (302, 404, 404, 200, 404, 404, 404, 404, 404), lambda w: {}),
})
# fmt: on
# End of personal API tokens --------------------------------------------------------------------


@pytest.fixture(autouse=True)
def demo_is_the_public_clinic(settings):
    settings.KAPFLOW_PUBLIC_CLINIC = "demo"


REFUSED = {403, 404}
ALLOWED = {200, 405}


def all_routes(patterns=None, prefix: str = "") -> list[tuple[str | None, str]]:
    """(fully qualified name or None, pattern) for every URL pattern, walking includes."""
    found: list[tuple[str | None, str]] = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            found.extend(all_routes(entry.url_patterns, namespace))
        elif isinstance(entry, URLPattern):
            found.append((f"{prefix}{entry.name}" if entry.name else None, str(entry.pattern)))
    return found


def another_portal_user(world) -> User:
    """Morgan, a second patient of Demo, with a portal account of her own: her sign-in."""
    data = {"legal_given_name": "Morgan", "legal_family_name": "Blake", "date_of_birth": date(1992, 2, 2)}
    morgan = patient_create(member=world.frontdesk, data=data)
    user = User.objects.create_user("morgan.portal@example.org", PASSWORD, full_name="Morgan Blake")
    PortalAccount.objects.create(user=user, patient=morgan, clinic=world.demo)
    return user


def another_portal_patient(world) -> Client:
    """Morgan (``another_portal_user``) signed in to the portal."""
    client = Client()
    client.force_login(another_portal_user(world))
    return client


def client_for(world, persona: str) -> Client:
    client = Client()
    if persona == "patient":
        client.force_login(PortalAccount.objects.get(patient=world.patient).user)
    elif persona != "anonymous":
        client.force_login(world.member(persona).user)
    return client


STATE_APPS = ("kapflow.", "django_otp.")


def domain_state() -> dict[str, list[dict[str, Any]]]:
    """Every row of every kapflow table and of the authenticator devices, except the access
    log (refusals are logged) and the sessions (every request touches its own): {model label:
    [{column: value}, ...] in primary key order}. Read with one plain SELECT per table (the
    ORM's querysets cost forty times as much, and the matrix takes thousands of snapshots)."""
    ignored = {AccessLogEntry, AuditChainHead, apps.get_model("accounts", "UserSession")}
    quote = connection.ops.quote_name
    state = {}
    with connection.cursor() as cursor:
        for config in apps.get_app_configs():
            if not config.name.startswith(STATE_APPS):
                continue
            for model in config.get_models():
                if model in ignored or model._meta.proxy or not model._meta.managed:
                    continue
                table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
                cursor.execute(f"SELECT * FROM {table} ORDER BY {pk}")  # noqa: S608 - our own table names
                columns = [column[0] for column in cursor.description]
                state[model._meta.label] = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return state


def refused_personas(route: Route) -> list[str]:
    """Those refused on GET: 403/404, and anonymous visitors sent to sign in."""
    refused = [p for p, status in zip(PERSONAS, route.get, strict=True) if status in REFUSED]
    if route.get[0] == 302:
        refused.insert(0, "anonymous")
    return refused


# The API and FHIR answer programs (401 and problem+json, not a sign-in page): their routes have
# their own matrix, with token scopes, in tests/api/test_api_matrix.py.
OWN_MATRIX_NAMESPACES = ("api", "fhir")


def test_every_route_of_the_project_has_a_row_in_the_matrix():
    routes = all_routes()
    unnamed = [pattern for name, pattern in routes if name is None]
    names = {
        name for name, _ in routes if name is not None and name.split(":", 1)[0] not in OWN_MATRIX_NAMESPACES
    }
    assert unnamed == [], "name these routes so the matrix can declare who may use them"
    assert sorted(names - set(MATRIX)) == [], "add a row to MATRIX for each of these routes"
    assert sorted(set(MATRIX) - names) == [], "these MATRIX rows name routes that no longer exist"


def test_every_row_gives_a_status_for_each_persona():
    for name, route in MATRIX.items():
        assert len(route.get) == len(PERSONAS), name
        assert set(route.get) <= {200, 302, 403, 404, 405, 410}, name


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_each_persona_gets_the_declared_status_on_get(world, portal_user, name):
    route = MATRIX[name]
    path = reverse(name, kwargs=route.kwargs(world))
    actual = {persona: client_for(world, persona).get(path).status_code for persona in PERSONAS}
    assert actual == dict(zip(PERSONAS, route.get, strict=True)), path

    patients_status = route.get[PERSONAS.index("patient")]
    if patients_status in REFUSED:  # another patient's portal sign-in is refused as Jordan's is
        assert another_portal_patient(world).get(path).status_code == patients_status, path

    if "/c/" in path and route.get[0] == 302:
        response = Client().get(path)
        assert response["Location"].startswith(reverse("accounts:login") + "?next=")


@pytest.mark.parametrize("name", sorted(n for n, r in MATRIX.items() if refused_personas(r)))
def test_refused_personas_are_refused_on_post_too_and_nothing_changes(world, portal_user, name):
    route = MATRIX[name]
    path = reverse(name, kwargs=route.kwargs(world))
    data = route.data(world) if route.data else {}
    for persona in refused_personas(route):
        client = client_for(world, persona)
        before = domain_state()
        expected = route.get[PERSONAS.index(persona)]
        assert client.post(path, data).status_code == expected, f"{persona} POST {path}"
        assert domain_state() == before, f"{persona} changed something with POST {path}"
    if "patient" in refused_personas(route):  # another patient's portal sign-in: as Jordan's
        morgan, expected = another_portal_patient(world), route.get[PERSONAS.index("patient")]
        before = domain_state()
        assert morgan.post(path, data).status_code == expected, f"another patient POST {path}"
        assert domain_state() == before, f"another patient changed something with POST {path}"


# Where a persona allowed on a route (200/405 on GET) does not get the usual 302 and a change for
# the row's data: {(route, persona): status}.
POST_OUTCOMES: dict[tuple[str, str], int] = {
    # Priya reads Theo's draft, but only its author changes or signs it.
    ("courses:note", "prescriber"): 403,
    ("courses:sign", "prescriber"): 403,
    # The row names Nico as the witness: Nico may not witness Nico's own count (400, once let in).
    ("stock:count", "nurse"): 400,
    ("stock:waste", "nurse"): 400,
}


def post_in_savepoint(client: Client, path: str, data: dict[str, Any]) -> tuple[int, bool]:
    """(status, whether anything changed) of a POST whose changes are then rolled back."""
    with transaction.atomic():
        before = domain_state()
        status = client.post(path, data).status_code
        changed = domain_state() != before
        transaction.set_rollback(True)
    return status, changed


@pytest.mark.parametrize("name", sorted(n for n, r in MATRIX.items() if r.data is not None))
def test_each_persona_allowed_on_a_route_posts_its_data_and_it_changes_something(world, portal_user, name):
    """The POST column of the allowed personas (so a refusal on POST alone is declared), and a
    guard for the test above: the refused POSTs carry data that does work when allowed."""
    route = MATRIX[name]
    assert route.data is not None
    path = reverse(name, kwargs=route.kwargs(world))
    data = route.data(world)
    allowed = [p for p, s in zip(PERSONAS, route.get, strict=True) if s in ALLOWED]
    clients = {persona: client_for(world, persona) for persona in allowed}
    actual = {persona: post_in_savepoint(clients[persona], path, data) for persona in allowed}
    expected = {}
    for persona in allowed:
        status = POST_OUTCOMES.get((name, persona), 302)
        expected[persona] = (status, status == 302)  # refused or invalid: nothing changes
    assert actual == expected, path


NOT_OBJECT_KWARGS = (
    nothing,
    demo,
    demo_public,
    public_page,
    reset_link,
    invitation_token,
    portal_token,
    measure_trend,
    portal_questionnaire,
    portal_questionnaire_answered,
    portal_questionnaire_submitted,
    *CONSENT_PORTAL_KWARGS,
    *COURSE_PORTAL_KWARGS,
    *PROTOCOL_KWARGS,
    *CALENDAR_KWARGS,
    *APPOINTMENT_PORTAL_KWARGS,
    appointment_kind,  # each clinic's own kinds of appointment, not records
    *API_TOKEN_KWARGS,  # a person's own tokens, under /accounts/ (no clinic in the address)
)
OBJECT_ROUTES = sorted(n for n, r in MATRIX.items() if r.kwargs not in NOT_OBJECT_KWARGS)


@pytest.mark.parametrize("name", OBJECT_ROUTES)
def test_the_other_clinics_admin_cannot_reach_our_records_through_their_own_clinic(world, portal_user, name):
    """Same URL, their clinic's slug, our record's id: 404, and a POST changes nothing.

    A POST-only route may answer a GET with 405 before looking the id up: the same answer
    for every id, so it reveals nothing."""
    route = MATRIX[name]
    kwargs = dict(route.kwargs(world), clinic="other")
    path = reverse(name, kwargs=kwargs)
    client = client_for(world, "other_admin")
    post_only = route.get[PERSONAS.index("admin")] == 405
    assert client.get(path).status_code in ({404, 405} if post_only else {404})
    before = domain_state()
    assert client.post(path, route.data(world) if route.data else {}).status_code == 404
    assert domain_state() == before
