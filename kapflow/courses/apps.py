from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "kapflow.courses"
    label = "courses"
