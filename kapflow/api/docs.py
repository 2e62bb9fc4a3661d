"""``/api/docs/``: Swagger UI over the OpenAPI schema, from local files (works offline).

drf-spectacular's split view serves the page and its start-up script as two responses, so
no inline script is needed; our template (``api/swagger_ui.html``) also moves the page's few
inline style rules into ``static/kapflow/api_docs.css``, so the page runs under the site's
Content-Security-Policy unchanged. Staff reach it signed in (or with a token); an anonymous
visitor is sent to sign in, and a patient's portal sign-in finds nothing here (404), as on
every staff page.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import exceptions


class SwaggerPage(SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"
    title = "kapflow API"

    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            if get_user(self.request._request).is_authenticated:  # a patient's portal session
                raise Http404("The API documentation is for staff.")
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


api_docs = SwaggerPage.as_view(url_name="api:schema")
