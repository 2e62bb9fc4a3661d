"""The patient fills in a questionnaire in the portal: one question per page, then a review.

``<uuid>/`` shows the first unanswered question (``?item=<id>`` goes back to another one);
POST keeps the answer in the request's draft (``services.draft_answer``) and moves on. When
every question asked is answered the same address shows the review, whose Submit button
POSTs to ``<uuid>/submit/``; ``<uuid>/done/`` thanks the patient and, when an answer raised
a safety flag, shows the clinic's crisis resources at once.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kapflow.core.errors import ApplicationError
from kapflow.measures import services
from kapflow.measures.instruments.model import Instrument, Item
from kapflow.measures.instruments.scoring import visible_items
from kapflow.measures.models import MeasureRequest, RequestStatus
from kapflow.measures.portal_selectors import (
    QuestionnaireClosed,
    due_questionnaires,
    instrument_of,
    own_request,
    page_viewed,
    questionnaire_url,
    raised_safety_flag,
    response_to,
)
from kapflow.portal.access import PortalRequest, portal_view


def _answers(measure: MeasureRequest) -> dict[str, int]:
    return {str(key): int(value) for key, value in dict(measure.draft).items()}


def _base_context(request: PortalRequest, measure: MeasureRequest, instrument: Instrument) -> dict[str, Any]:
    return {
        "clinic": request.portal_clinic,
        "crisis_text": request.portal_clinic.crisis_line_text,
        "measure": measure,
        "instrument": instrument,
        "answer_url": questionnaire_url(measure),
    }


def _closed(request: PortalRequest) -> HttpResponseBase:
    context = {"clinic": request.portal_clinic, "crisis_text": request.portal_clinic.crisis_line_text}
    return render(request, "measures/portal/closed.html", context, status=404)


def _already_submitted(request: PortalRequest, measure: MeasureRequest, message: str) -> HttpResponseBase:
    """The answers were sent before (double click, replay, back button): say so, 409, and show
    what the thank-you page showed, the crisis resources included."""
    return _thanks(request, measure, status=409, message=message)


def _thanks(
    request: PortalRequest, measure: MeasureRequest, *, status: int = 200, message: str = ""
) -> HttpResponseBase:
    instrument = instrument_of(measure)
    response = response_to(measure)
    page_viewed(user=request.user, request=measure, what="already submitted" if message else "thank-you page")
    others = [due for due in due_questionnaires(request.patient) if due.url != questionnaire_url(measure)]
    context = dict(
        _base_context(request, measure, instrument),
        safety_flag=raised_safety_flag(response),
        message=message,
        next_questionnaire=others[0] if others else None,
    )
    return render(request, "measures/portal/done.html", context, status=status)


def _question_page(
    request: PortalRequest,
    measure: MeasureRequest,
    instrument: Instrument,
    item: Item,
    *,
    error: str = "",
    chosen: int | None = None,
    status: int = 200,
) -> HttpResponseBase:
    answers = _answers(measure)
    shown = visible_items(instrument, answers)
    number = shown.index(item) + 1
    previous = shown[number - 2] if number > 1 else None
    page_viewed(user=request.user, request=measure, what=f"question {item.id}")
    context = dict(
        _base_context(request, measure, instrument),
        item=item,
        number=number,
        count=len(shown),
        chosen=answers.get(item.id) if chosen is None else chosen,
        back_url=f"{questionnaire_url(measure)}?item={previous.id}" if previous else reverse("portal:home"),
        error=error,
    )
    return render(request, "measures/portal/question.html", context, status=status)


def _label(item: Item, value: int) -> str:
    try:
        return item.option(value).label
    except KeyError:  # the clinic changed its instrument since this answer was kept
        return str(value)


def _review_page(
    request: PortalRequest,
    measure: MeasureRequest,
    instrument: Instrument,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponseBase:
    answers = _answers(measure)
    shown = visible_items(instrument, answers)
    rows = [(number, item, _label(item, answers[item.id])) for number, item in enumerate(shown, start=1)]
    page_viewed(user=request.user, request=measure, what="review")
    context = dict(
        _base_context(request, measure, instrument),
        rows=rows,
        count=len(shown),
        back_url=f"{questionnaire_url(measure)}?item={shown[-1].id}",
        error=error,
    )
    return render(request, "measures/portal/review.html", context, status=status)


def _current_page(
    request: PortalRequest,
    measure: MeasureRequest,
    instrument: Instrument,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponseBase:
    """The first question not answered yet, or the review when every question asked is."""
    answers = _answers(measure)
    unanswered = [item for item in visible_items(instrument, answers) if item.id not in answers]
    if unanswered:
        return _question_page(request, measure, instrument, unanswered[0], error=error, status=status)
    return _review_page(request, measure, instrument, error=error, status=status)


def _shown_item(instrument: Instrument, measure: MeasureRequest, item_id: str) -> Item | None:
    return next((item for item in visible_items(instrument, _answers(measure)) if item.id == item_id), None)


@portal_view
@require_http_methods(["GET", "POST"])
def answer(request: PortalRequest, request_id: uuid.UUID) -> HttpResponseBase:
    try:
        measure = own_request(patient=request.patient, user=request.user, request_id=request_id)
    except QuestionnaireClosed:
        return _closed(request)
    if measure.status == RequestStatus.COMPLETED:
        return _already_submitted(request, measure, str(services.ALREADY_SUBMITTED))
    instrument = instrument_of(measure)

    if request.method != "POST":
        wanted = request.GET.get("item")
        if wanted is None:
            return _current_page(request, measure, instrument)
        item = _shown_item(instrument, measure, wanted)
        if item is None:  # hidden by an answer since, or no such question: go on from where they are
            return redirect(questionnaire_url(measure))
        return _question_page(request, measure, instrument, item)

    item = _shown_item(instrument, measure, request.POST.get("item", ""))
    if item is None:
        error = _("That question is not part of this questionnaire now. Please check the question below.")
        return _current_page(request, measure, instrument, error=error, status=400)
    raw = request.POST.get("answer", "")
    if raw == "":
        return _question_page(
            request, measure, instrument, item, error=_("Choose an answer, then press Next."), status=400
        )
    try:
        value = int(raw)
    except ValueError:
        error = _("Choose one of the answers offered.")
        return _question_page(request, measure, instrument, item, error=error, status=400)
    try:
        services.draft_answer(request=measure, item_id=item.id, value=value)
    except services.AlreadySubmitted as exc:
        return _already_submitted(request, measure, exc.message)
    except ApplicationError as exc:
        return _question_page(request, measure, instrument, item, error=exc.message, status=exc.status)
    return redirect(questionnaire_url(measure))


@portal_view
@require_POST
def submit(request: PortalRequest, request_id: uuid.UUID) -> HttpResponseBase:
    try:
        measure = own_request(patient=request.patient, user=request.user, request_id=request_id)
    except QuestionnaireClosed:
        return _closed(request)
    if measure.status == RequestStatus.COMPLETED:
        return _already_submitted(request, measure, str(services.ALREADY_SUBMITTED))
    instrument = instrument_of(measure)
    try:
        services.response_submit(request=measure, answers=_answers(measure), by=request.user)
    except services.AlreadySubmitted as exc:  # a second click that raced the first
        measure.refresh_from_db()
        return _already_submitted(request, measure, exc.message)
    except ApplicationError:
        error = _("Some questions are not answered yet. Please answer them, then submit again.")
        return _current_page(request, measure, instrument, error=error, status=400)
    return redirect("portal_measures:done", request_id=measure.public_id)


@portal_view
@require_GET
def done(request: PortalRequest, request_id: uuid.UUID) -> HttpResponseBase:
    try:
        measure = own_request(patient=request.patient, user=request.user, request_id=request_id)
    except QuestionnaireClosed:
        return _closed(request)
    if measure.status != RequestStatus.COMPLETED:
        return redirect(questionnaire_url(measure))
    return _thanks(request, measure)
