from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "kapflow.consent"
    label = "consent"
