from django.urls import path

from kapflow.clinics import views

app_name = "clinics"

urlpatterns = [
    path("", views.clinic_settings, name="settings"),
    path("locations/new/", views.location_form, name="location_create"),
    path("locations/<int:location_id>/", views.location_form, name="location_edit"),
    path("rooms/new/", views.room_form, name="room_create"),
    path("rooms/<int:room_id>/", views.room_form, name="room_edit"),
]
