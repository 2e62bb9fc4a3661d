"""The signed consent rendered to PDF with WeasyPrint.

WeasyPrint needs Pango (Debian: ``libpango-1.0-0 libpangoft2-1.0-0``). It is imported only
when a PDF is rendered; on a server without it, ``render`` answers None and the signature is
kept without a PDF.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignedConsent:
    """Everything the PDF shows."""

    clinic_name: str
    title: str
    body: str
    version: int
    legal_name: str
    date_of_birth: date
    typed_name: str
    signed_at: datetime  # aware; shown in the clinic's time zone
    time_zone: Any  # the clinic's tzinfo


def _weasyprint() -> Any | None:
    try:
        import weasyprint  # needs Pango: imported only when rendering

        return weasyprint
    except (ImportError, OSError) as exc:
        logger.warning("PDF rendering is unavailable: %s", exc)
        return None


def render(consent: SignedConsent) -> bytes | None:
    """The PDF's bytes, or None when WeasyPrint cannot be loaded on this server."""
    weasyprint = _weasyprint()
    if weasyprint is None:
        return None
    html = render_to_string(
        "consent/pdf.html",
        {"c": consent, "signed_local": timezone.localtime(consent.signed_at, consent.time_zone)},
    )
    data: bytes = weasyprint.HTML(string=html, base_url=None).write_pdf()
    return data
