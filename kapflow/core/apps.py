from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kapflow.core"
    label = "core"
    verbose_name = "kapflow core"

    def ready(self) -> None:
        from kapflow.core import logs

        logs.install()  # no secrets or health data in any log record
