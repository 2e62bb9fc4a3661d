from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kapflow.core"
    label = "core"
    verbose_name = "kapflow core"
