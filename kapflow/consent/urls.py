"""Staff pages of informed consent, mounted at /c/<clinic>/consent/."""

from django.urls import path

from kapflow.consent import views

app_name = "consent"

urlpatterns = [
    path("templates/", views.template_list, name="templates"),
    path("patients/<uuid:patient_id>/<uuid:signature_id>/witness/", views.witness, name="witness"),
    path("patients/<uuid:patient_id>/<uuid:signature_id>/withdraw/", views.withdraw, name="withdraw"),
    path("patients/<uuid:patient_id>/<uuid:signature_id>/pdf/", views.signature_pdf, name="pdf"),
]
