"""The printed record of a dosing session (WeasyPrint), as the Spravato REMS monitoring form
asks: dose, lot, route, total monitoring minutes, when the patient was ready to leave, vitals,
events and concomitant medications. Guide and psychotherapy notes are not in it."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from kapflow.consent.pdf import _weasyprint
from kapflow.dosing import selectors
from kapflow.dosing.models import DosingSession


def render(session: DosingSession) -> bytes | None:
    """The PDF's bytes, or None when WeasyPrint cannot be loaded on this server."""
    weasyprint = _weasyprint()
    if weasyprint is None:
        return None
    html = render_to_string(
        "dosing/pdf.html",
        {
            "session": session,
            "patient": session.patient,
            "clinic": session.clinic,
            "printed_at": timezone.now(),
            **selectors.session_record(session),
        },
    )
    data: bytes = weasyprint.HTML(string=html, base_url=None).write_pdf()
    return data
