from django.urls import path

from kapflow.scheduling import views

app_name = "scheduling"

urlpatterns = [
    path("book/", views.book, name="book"),
    path("appointments/<uuid:appointment_id>/", views.appointment_detail, name="appointment"),
    path("appointments/<uuid:appointment_id>/check-in/", views.check_in, name="check_in"),
    path("appointments/<uuid:appointment_id>/no-show/", views.no_show, name="no_show"),
    path("appointments/<uuid:appointment_id>/complete/", views.complete, name="complete"),
    path("appointments/<uuid:appointment_id>/cancel/", views.cancel, name="cancel"),
    path("appointments/<uuid:appointment_id>/move/", views.move, name="move"),
    path("patients/<uuid:patient_id>/", views.patient_appointments, name="patient"),
    path("courses/<uuid:course_id>/plan/", views.plan, name="plan"),
    path("hours/", views.hours, name="hours"),
    path("hours/staff/<int:membership_id>/", views.staff_hours, name="staff_hours"),
    path("types/<slug:kind>/", views.appointment_type, name="type"),
    path("closures/", views.closure_add, name="closure_add"),
    path("closures/<uuid:closure_id>/remove/", views.closure_cancel, name="closure_remove"),
]
