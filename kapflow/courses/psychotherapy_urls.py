from django.urls import path

from kapflow.courses import psychotherapy_views as views

app_name = "psychotherapy"

urlpatterns = [
    path("patients/<uuid:patient_id>/", views.patient_notes, name="list"),
    path("patients/<uuid:patient_id>/new/", views.note_new, name="new"),
    path("notes/<uuid:note_id>/", views.note, name="note"),
    path("notes/<uuid:note_id>/sign/", views.note_sign, name="sign"),
]
