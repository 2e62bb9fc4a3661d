from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "kapflow.patients"
    label = "patients"
