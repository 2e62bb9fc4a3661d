"""The patient's consent in the portal, mounted at /portal/consent/."""

from django.urls import path

from kapflow.consent import portal_views

app_name = "portal_consent"

urlpatterns = [
    path("", portal_views.sign, name="sign"),
    path("<uuid:signature_id>/pdf/", portal_views.signature_pdf, name="pdf"),
    path("<uuid:signature_id>/withdraw/", portal_views.withdraw, name="withdraw"),
]
