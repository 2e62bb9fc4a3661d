from django.apps import AppConfig


class DosingConfig(AppConfig):
    name = "kapflow.dosing"
    label = "dosing"
    verbose_name = "Dosing sessions and the controlled-substance ledger"
