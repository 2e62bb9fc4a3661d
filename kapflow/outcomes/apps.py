from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "kapflow.outcomes"
    label = "outcomes"
    verbose_name = "Outcomes and reports"
