"""The patient's questionnaires in the portal, under /portal/measures/."""

from django.urls import path

from kapflow.measures import portal_views

app_name = "portal_measures"

urlpatterns = [
    path("<uuid:request_id>/", portal_views.answer, name="answer"),
    path("<uuid:request_id>/submit/", portal_views.submit, name="submit"),
    path("<uuid:request_id>/done/", portal_views.done, name="done"),
]
