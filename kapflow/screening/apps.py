from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "kapflow.screening"
    label = "screening"
