from django.urls import path

from kapflow.scheduling import portal_views as views

app_name = "portal_appointments"

urlpatterns = [
    path("", views.appointment_list, name="list"),
    path("<uuid:appointment_id>/cancel/", views.cancel, name="cancel"),
    path("<uuid:appointment_id>/change/", views.change, name="change"),
    path("<uuid:appointment_id>/appointment.ics", views.ics, name="ics"),
]
