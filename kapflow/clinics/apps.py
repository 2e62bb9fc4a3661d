from django.apps import AppConfig


class ClinicsConfig(AppConfig):
    name = "kapflow.clinics"
    label = "clinics"
