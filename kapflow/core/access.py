"""The Django side of authorization: the clinic a request works in, and checked access.

``staff_view`` resolves the clinic in the URL to the user's membership there (404 when the
clinic is unknown to them), activates the clinic's time zone, and applies a clinic-wide
permission. ``require`` checks an action on a patient through ``permissions.decide`` and
writes a denied entry to the access log before refusing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase
from django.utils import timezone
from django_htmx.middleware import HtmxDetails

from kapflow.accounts.sessions import SESSION_IDLE_MINUTES
from kapflow.core import audit
from kapflow.core.models import AuditAction, AuditOutcome, DataCategory
from kapflow.core.permissions import Action, Actor, PatientFacts, decide
from kapflow.core.roles import Role

if TYPE_CHECKING:
    from kapflow.accounts.models import Membership, User
    from kapflow.clinics.models import Clinic
    from kapflow.patients.models import Patient

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponseBase])

ACTION_CATEGORY: dict[Action, DataCategory] = {
    Action.PATIENT_SEARCH: DataCategory.DEMOGRAPHICS,
    Action.PATIENT_CREATE: DataCategory.DEMOGRAPHICS,
    Action.STAFF_MANAGE: DataCategory.STAFF,
    Action.CLINIC_CONFIGURE: DataCategory.CLINIC,
    Action.AUDIT_VIEW: DataCategory.AUDIT,
    Action.INTAKE_VIEW: DataCategory.INTAKE,
    Action.INTAKE_MANAGE: DataCategory.INTAKE,
    Action.INSTRUMENT_MANAGE: DataCategory.CLINIC,
    Action.PORTAL_INVITE: DataCategory.PORTAL,
    Action.SCREENING_RECORD: DataCategory.CLINICAL,
    Action.ELIGIBILITY_DECIDE: DataCategory.CLINICAL,
    Action.DEMOGRAPHICS_VIEW: DataCategory.DEMOGRAPHICS,
    Action.DEMOGRAPHICS_EDIT: DataCategory.DEMOGRAPHICS,
    Action.CARE_TEAM_MANAGE: DataCategory.CARE_TEAM,
    Action.CLINICAL_VIEW: DataCategory.CLINICAL,
    Action.CLINICAL_EDIT: DataCategory.CLINICAL,
    Action.DOSING_MEDICAL: DataCategory.CLINICAL,
    Action.DOSE_ADMINISTER: DataCategory.CLINICAL,
    Action.SCHEDULE_VIEW: DataCategory.SCHEDULE,
    Action.SCHEDULE_MANAGE: DataCategory.SCHEDULE,
    Action.OUTCOMES_VIEW: DataCategory.OUTCOMES,
    Action.OUTCOMES_EXPORT: DataCategory.OUTCOMES,
    Action.STOCK_VIEW: DataCategory.STOCK,
    Action.STOCK_MANAGE: DataCategory.STOCK,
    Action.BULK_EXPORT: DataCategory.EXPORT,
}
WRITE_ACTIONS = frozenset(
    {
        Action.PATIENT_CREATE,
        Action.STAFF_MANAGE,
        Action.CLINIC_CONFIGURE,
        Action.DEMOGRAPHICS_EDIT,
        Action.CARE_TEAM_MANAGE,
        Action.CLINICAL_EDIT,
        Action.INTAKE_MANAGE,
        Action.INSTRUMENT_MANAGE,
        Action.PORTAL_INVITE,
        Action.SCREENING_RECORD,
        Action.ELIGIBILITY_DECIDE,
        Action.DOSING_MEDICAL,
        Action.DOSE_ADMINISTER,
        Action.STOCK_MANAGE,
        Action.SCHEDULE_MANAGE,
    }
)


class StaffRequest(HttpRequest):
    """What a request inside a clinic carries (set by ``staff_view``)."""

    user: User
    clinic: Clinic
    membership: Membership
    actor: Actor
    htmx: HtmxDetails


def actor_for(membership: Membership) -> Actor:
    return Actor(user_id=membership.user_id, clinic_id=membership.clinic_id, role=Role(membership.role))


def patient_facts(patient: Patient) -> PatientFacts:
    team = patient.care_team.filter(removed_at__isnull=True).order_by().values_list("user_id", flat=True)
    return PatientFacts(clinic_id=patient.clinic_id, care_team_user_ids=frozenset(team))


def membership_for(user: User, clinic_slug: str) -> Membership:
    from kapflow.accounts.models import Membership

    membership = (
        Membership.objects.select_related("clinic", "user")
        .filter(user=user, clinic__slug=clinic_slug, is_active=True, clinic__is_active=True)
        .first()
    )
    if membership is None:
        raise Http404("No clinic by that name among yours.")
    return membership


def deny(
    membership: Membership,
    action: Action,
    reason: str,
    patient: Patient | None = None,
    *,
    hide: bool = False,
) -> None:
    """Record the refusal in the access log, then refuse (404 when the record must stay hidden)."""
    audit.record(
        user=membership.user,
        clinic=membership.clinic,
        patient=patient,
        action=AuditAction.UPDATE if action in WRITE_ACTIONS else AuditAction.VIEW,
        category=ACTION_CATEGORY[action],
        outcome=AuditOutcome.DENIED,
        detail=f"{action}: {reason}",
    )
    if hide:
        raise Http404("No such record.")
    raise PermissionDenied(reason)


def allowed(membership: Membership, action: Action, patient: Patient | None = None) -> bool:
    """Ask without recording anything (for showing or hiding links)."""
    facts = patient_facts(patient) if patient is not None else None
    return decide(actor_for(membership), action, facts).allowed


def allowed_patients(membership: Membership, action: Action, patients: Sequence[Patient]) -> list[Patient]:
    """The patients the member may take ``action`` on: ``allowed`` for each, with one query for
    all their care teams (for a list that shows a link per row)."""
    from kapflow.patients.models import CareTeamMember

    teams: dict[int, set[int]] = {patient.pk: set() for patient in patients}
    current = CareTeamMember.objects.filter(patient__in=list(teams), removed_at__isnull=True).order_by()
    for patient_id, user_id in current.values_list("patient_id", "user_id"):
        teams[patient_id].add(user_id)
    actor = actor_for(membership)
    return [
        patient
        for patient in patients
        if decide(actor, action, PatientFacts(patient.clinic_id, frozenset(teams[patient.pk]))).allowed
    ]


def require(membership: Membership, action: Action, patient: Patient | None = None) -> None:
    """Refuse (and log the refusal) unless the member may take ``action``."""
    facts = patient_facts(patient) if patient is not None else None
    decision = decide(actor_for(membership), action, facts)
    if not decision.allowed:
        deny(membership, action, decision.reason, patient, hide=decision.hide)


def staff_view(action: Action | None = None) -> Callable[[ViewFunc], ViewFunc]:
    """Decorate a view under ``/c/<clinic>/``: resolve membership, time zone, permission."""

    def decorator(view: ViewFunc) -> ViewFunc:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, clinic: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = membership_for(cast("User", request.user), clinic)
            staff = cast(StaffRequest, request)
            staff.clinic = membership.clinic
            staff.membership = membership
            staff.actor = actor_for(membership)
            # Written only when changed: an unchanged session costs no database write.
            for key, value in (
                ("kapflow_clinic", membership.clinic.slug),
                (SESSION_IDLE_MINUTES, membership.clinic.idle_timeout_minutes),
            ):
                if request.session.get(key) != value:
                    request.session[key] = value
            with timezone.override(membership.clinic.tzinfo):
                if action is not None:
                    require(membership, action)
                return view(staff, *args, **kwargs)

        return cast(ViewFunc, wrapped)

    return decorator
