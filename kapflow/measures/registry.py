"""Which instruments a clinic can use: the built-in ones and those it uploaded."""

from __future__ import annotations

from kapflow.clinics.models import Clinic
from kapflow.measures.instruments.builtin import BUILT_IN
from kapflow.measures.instruments.definitions import parse_definition
from kapflow.measures.instruments.model import Instrument
from kapflow.measures.models import ClinicInstrument


class UnknownInstrument(LookupError):
    pass


def instrument_for(clinic: Clinic, key: str) -> Instrument:
    """The built-in instrument ``key``, or the clinic's newest active upload with that key."""
    if key in BUILT_IN:
        return BUILT_IN[key]
    row = (
        ClinicInstrument.objects.filter(clinic=clinic, key=key, is_active=True)
        .order_by("-uploaded_at")
        .first()
    )
    if row is None:
        raise UnknownInstrument(key)
    return parse_definition(row.definition)


def available(clinic: Clinic) -> list[Instrument]:
    """Every instrument the clinic can assign or record, built-in first."""
    custom: dict[str, Instrument] = {}
    for row in ClinicInstrument.objects.filter(clinic=clinic, is_active=True).order_by("uploaded_at"):
        custom[row.key] = parse_definition(row.definition)
    return [*BUILT_IN.values(), *custom.values()]
