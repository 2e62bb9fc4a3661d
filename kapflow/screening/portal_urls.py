from django.urls import path

from kapflow.screening import portal_views

app_name = "portal_screening"

urlpatterns = [
    path("", portal_views.health, name="health"),
]
