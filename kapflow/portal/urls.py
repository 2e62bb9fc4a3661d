from django.urls import path

from kapflow.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("join/<str:token>/", views.join, name="join"),
]
