from django.urls import path

from kapflow.portal import staff_views

app_name = "portal_staff"

urlpatterns = [
    path("patients/<uuid:patient_id>/invite/", staff_views.portal_invite, name="invite"),
]
