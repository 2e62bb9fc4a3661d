from django.urls import path

from kapflow.courses import views

app_name = "courses"

urlpatterns = [
    path("patients/<uuid:patient_id>/", views.patient_courses, name="patient"),
    path("patients/<uuid:patient_id>/new/", views.course_create, name="new"),
    path("<uuid:course_id>/", views.course_detail, name="course"),
    path("<uuid:course_id>/status/", views.course_status, name="status"),
    path("<uuid:course_id>/visits/new/", views.visit_create, name="visit_new"),
    path("notes/<uuid:note_id>/", views.note_edit, name="note"),
    path("notes/<uuid:note_id>/autosave/", views.note_autosave, name="autosave"),
    path("notes/<uuid:note_id>/sign/", views.note_sign, name="sign"),
    path("notes/<uuid:note_id>/addenda/", views.addendum_add, name="addendum"),
]
