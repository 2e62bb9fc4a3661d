from django.urls import path

from kapflow.screening import views

app_name = "screening"

urlpatterns = [
    path("patients/<uuid:patient_id>/", views.overview, name="overview"),
    path("patients/<uuid:patient_id>/new/", views.new_screening, name="new"),
    path("patients/<uuid:patient_id>/decide/", views.decide, name="decide"),
    path("rules/", views.rules, name="rules"),
]
