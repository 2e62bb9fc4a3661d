from django.apps import AppConfig


class MeasuresConfig(AppConfig):
    name = "kapflow.measures"
    label = "measures"
