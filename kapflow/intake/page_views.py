"""The clinic admin edits the text of the public pages."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kapflow.core import audit
from kapflow.core.access import StaffRequest, staff_view
from kapflow.core.models import AuditAction, DataCategory
from kapflow.core.permissions import Action
from kapflow.intake import selectors
from kapflow.intake.forms import PublicPageForm
from kapflow.intake.models import PublicPage
from kapflow.intake.public import public_url


@staff_view(Action.CLINIC_CONFIGURE)
@require_http_methods(["GET", "POST"])
def edit_page(request: StaffRequest, slug: str) -> HttpResponseBase:
    if slug not in PublicPage.Slug.values:
        raise Http404("No such page.")
    title, body, page = selectors.public_page(request.clinic, slug)
    form = PublicPageForm(
        request.POST or None,
        instance=page or PublicPage(clinic=request.clinic, slug=slug, updated_by=request.user),
        initial={"title": title, "body": body} if page is None else None,
    )
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save(commit=False)
            saved.updated_by = request.user
            saved.save()
            audit.record(
                user=request.user,
                clinic=request.clinic,
                action=AuditAction.UPDATE,
                category=DataCategory.CLINIC,
                detail=f"public page {slug}",
            )
        messages.success(request, _("The page is saved and public now."))
        return redirect("intake:edit_page", clinic=request.clinic.slug, slug=slug)
    context = {
        "form": form,
        "slug": slug,
        "pages": PublicPage.Slug.choices,
        "public_address": public_url("home" if slug == "home" else "how", request.clinic),
        "is_default": page is None,
    }
    return render(request, "intake/edit_page.html", context, status=400 if form.errors else 200)
