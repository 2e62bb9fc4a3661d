from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "kapflow.intake"
    label = "intake"
