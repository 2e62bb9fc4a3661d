from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "kapflow.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling: appointments, hours, reminders and calendars"
