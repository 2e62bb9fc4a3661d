from django.urls import path

from kapflow.dosing import protocol_views as views

app_name = "protocols"

urlpatterns = [
    path("", views.protocol_list, name="list"),
    path("<slug:route>/", views.protocol_edit, name="edit"),
    path("<slug:route>/history/", views.protocol_history, name="history"),
    path("<slug:route>/history/<int:version>/", views.protocol_version, name="version"),
]
