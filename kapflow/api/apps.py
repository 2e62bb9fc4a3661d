from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "kapflow.api"
    label = "api"
    verbose_name = "REST API v1 and personal API tokens"

    def ready(self) -> None:
        from kapflow.api import schema  # noqa: F401 - registers the OpenAPI authentication schemes
