from django.urls import path

from kapflow.patients import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("<uuid:patient_id>/", views.patient_chart, name="chart"),
    path("<uuid:patient_id>/edit/", views.patient_edit, name="edit"),
    path("<uuid:patient_id>/clinical/", views.clinical_edit, name="clinical"),
    path("<uuid:patient_id>/care-team/", views.care_team_add, name="care_team_add"),
    path(
        "<uuid:patient_id>/care-team/<int:row_id>/remove/",
        views.care_team_remove,
        name="care_team_remove",
    ),
    path("<uuid:patient_id>/print/", views.patient_print, name="print"),
]
