"""Which clinic a public page belongs to, and addresses of the public pages."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.urls import reverse

from kapflow.clinics.models import Clinic


def default_public_clinic() -> Clinic | None:
    """The clinic served at /: KAPFLOW_PUBLIC_CLINIC, else the only active clinic."""
    active = Clinic.objects.filter(is_active=True)
    if settings.KAPFLOW_PUBLIC_CLINIC:
        return active.filter(slug=settings.KAPFLOW_PUBLIC_CLINIC).first()
    clinics = list(active[:2])
    return clinics[0] if len(clinics) == 1 else None


def public_clinic(slug: str | None) -> Clinic:
    """The clinic of a public page: the one named in the address, or the default one."""
    if slug is None:
        clinic = default_public_clinic()
    else:
        clinic = Clinic.objects.filter(slug=slug, is_active=True).first()
    if clinic is None:
        raise Http404("No such clinic.")
    return clinic


def public_url(name: str, clinic: Clinic) -> str:
    """The address of a public page of ``clinic``: short for the default clinic."""
    default = default_public_clinic()
    if default is not None and default.pk == clinic.pk:
        return reverse(f"public:{name}")
    return reverse(f"clinic_public:{name}", kwargs={"clinic": clinic.slug})
