"""The clinic admin's dosing protocols under /c/<clinic>/protocols/: one per route, in versions.

Saving writes a new version through ``protocols.protocol_save`` (sessions keep the version they
ran under); the form has a field per value, and each problem ``protocol.parse`` finds is shown
next to the field it names. Only the clinic admin (``CLINIC_CONFIGURE``) opens these pages.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kapflow.clinics.models import Clinic
from kapflow.core.access import StaffRequest, staff_view
from kapflow.core.errors import ApplicationError, Conflict
from kapflow.core.permissions import Action
from kapflow.dosing import protocol as rules
from kapflow.dosing import protocols
from kapflow.dosing.discharge import ITEM_LABELS
from kapflow.dosing.models import ProtocolVersion
from kapflow.dosing.protocol_forms import (
    MONITORING,
    PHASES,
    SOURCE_SECTIONS,
    UNIT_WORDS,
    ProtocolForm,
    initial_for,
    minutes_text,
    sources_after,
)
from kapflow.dosing.protocols import ProtocolInvalid
from kapflow.measures import registry
from kapflow.screening.models import Route

EN_DASH = "\N{EN DASH}"


def _route(route: str) -> str:
    if route not in Route.values:
        raise Http404("No such route.")
    return route


def number(value: Decimal) -> str:
    """400 rather than 4E+2, 0.75 rather than 0.750."""
    return f"{value.normalize():f}"


def dose_summary(p: rules.Protocol) -> str:
    """E.g. "100 to 400 mg, max 400 mg per session" or "0.5 to 0.75 mg/kg over 40 min, max ...",
    the range written with an en dash."""
    unit = UNIT_WORDS[p.dose_unit]
    text = f"{number(p.dose_min)}{EN_DASH}{number(p.dose_max)} {unit}"
    if p.infusion_minutes:
        text += " " + _("over %(n)s min") % {"n": p.infusion_minutes}
    return (
        text
        + ", "
        + _("max %(dose)s %(unit)s per session") % {"dose": number(p.max_cumulative), "unit": unit}
    )


def describe(p: rules.Protocol) -> dict[str, Any]:
    """A protocol's values in words, for the read-only pages."""
    return {
        "dose": dose_summary(p),
        "unit": UNIT_WORDS[p.dose_unit],
        "dose_min": number(p.dose_min),
        "dose_max": number(p.dose_max),
        "max_cumulative": number(p.max_cumulative),
        "monitoring": [
            (label, minutes_text(p.monitoring.get(kind, ()))) for kind, label in MONITORING.items()
        ],
        "limits": [
            (
                phase_label,
                [
                    (_(label), getattr(p, phase).get(name, rules.Limit(None, None)))
                    for name, label in rules.LIMIT_LABELS.items()
                ],
                p.sources.get(phase, ""),
            )
            for phase, phase_label in PHASES.items()
        ],
        "discharge": [label for item, label in ITEM_LABELS.items() if item in p.discharge_criteria],
        "other_sources": {k: v for k, v in p.sources.items() if k not in SOURCE_SECTIONS},
    }


def _instruments(clinic: Clinic) -> dict[str, str]:
    return {instrument.key: instrument.short_name for instrument in registry.available(clinic)}


def _route_label(route: str) -> str:
    return str(Route(route).label)


@staff_view(Action.CLINIC_CONFIGURE)
@require_GET
def protocol_list(request: StaffRequest) -> HttpResponseBase:
    rows: list[dict[str, Any]] = []
    for route, label in Route.choices:
        version = protocols.current(request.clinic, route)
        protocol = protocols.parsed(version)
        rows.append(
            {
                "route": route,
                "label": label,
                "version": version,
                "dose": dose_summary(protocol),
                "observation": protocol.min_observation_minutes,
            }
        )
    context = {
        "rows": rows,
        "any_example": any(row["version"].is_example for row in rows),
        "example_label": rules.EXAMPLE_LABEL,
    }
    return render(request, "dosing/protocols/list.html", context)


@staff_view(Action.CLINIC_CONFIGURE)
@require_http_methods(["GET", "POST"])
def protocol_edit(request: StaffRequest, route: str) -> HttpResponseBase:
    route = _route(route)
    version = protocols.current(request.clinic, route)
    protocol = protocols.parsed(version)
    form = ProtocolForm(
        request.POST if request.method == "POST" else None,
        initial=initial_for(protocol, version.version),
        route=route,
        instruments=_instruments(request.clinic),
    )
    conflict = ""
    if request.method == "POST" and form.is_valid():
        values = form.values()
        candidate, _problems = rules.parse(values)
        stamp = _("set by %(clinic)s on %(date)s") % {
            "clinic": request.clinic.name,
            "date": timezone.localdate().isoformat(),
        }
        values["sources"] = (
            sources_after(protocol, candidate, stamp) if candidate is not None else dict(protocol.sources)
        )
        try:
            saved = protocols.protocol_save(
                member=request.membership,
                route=route,
                values=values,
                base_version=form.cleaned_data["base_version"],
                change_note=form.cleaned_data["change_note"],
            )
        except ProtocolInvalid as exc:
            form.place_problems(exc.problems)
        except Conflict as exc:
            conflict = exc.message
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Version %(n)s saved. Sessions already held keep the version they ran under.")
                % {"n": saved.version},
            )
            return redirect("protocols:list", clinic=request.clinic.slug)
    context = {
        "form": form,
        "route": route,
        "route_label": _route_label(route),
        "version": version,
        "sources": protocol.sources,
        "other_sources": describe(protocol)["other_sources"],
        "example_label": rules.EXAMPLE_LABEL,
        "conflict": conflict,
    }
    status = 409 if conflict else 400 if request.method == "POST" else 200
    return render(request, "dosing/protocols/edit.html", context, status=status)


@staff_view(Action.CLINIC_CONFIGURE)
@require_GET
def protocol_history(request: StaffRequest, route: str) -> HttpResponseBase:
    route = _route(route)
    protocols.current(request.clinic, route)  # the shipped example is version 1
    versions = (
        ProtocolVersion.objects.filter(clinic=request.clinic, route=route)
        .select_related("created_by")
        .order_by("-version")
    )
    context = {
        "route": route,
        "route_label": _route_label(route),
        "versions": versions,
        "example_label": rules.EXAMPLE_LABEL,
    }
    return render(request, "dosing/protocols/history.html", context)


@staff_view(Action.CLINIC_CONFIGURE)
@require_GET
def protocol_version(request: StaffRequest, route: str, version: int) -> HttpResponseBase:
    route = _route(route)
    latest = protocols.current(request.clinic, route)
    shown = get_object_or_404(
        ProtocolVersion.objects.select_related("created_by"),
        clinic=request.clinic,
        route=route,
        version=version,
    )
    protocol = protocols.parsed(shown)
    context = {
        "route": route,
        "route_label": _route_label(route),
        "shown": shown,
        "latest": latest,
        "protocol": protocol,
        "described": describe(protocol),
        "example_label": rules.EXAMPLE_LABEL,
    }
    return render(request, "dosing/protocols/version.html", context)
