from django.urls import path

from kapflow.measures import alert_views, views

app_name = "measures"

urlpatterns = [
    path("patients/<uuid:patient_id>/", views.overview, name="overview"),
    path("patients/<uuid:patient_id>/assign/", views.assign, name="assign"),
    path("patients/<uuid:patient_id>/assignments/<uuid:assignment_id>/stop/", views.stop, name="stop"),
    path("patients/<uuid:patient_id>/due/<uuid:request_id>/enter/", views.enter, name="enter"),
    path("patients/<uuid:patient_id>/responses/<uuid:response_id>/", views.response_detail, name="response"),
    path("patients/<uuid:patient_id>/responses/<uuid:response_id>/correct/", views.correct, name="correct"),
    path("patients/<uuid:patient_id>/trend/<slug:key>/", views.trajectory, name="trajectory"),
    path(
        "patients/<uuid:patient_id>/trend/<slug:key>/chart.svg",
        views.trajectory_svg_view,
        name="trajectory_svg",
    ),
    path("alerts/<uuid:alert_id>/", alert_views.alert_detail, name="alert"),
    path("instruments/", alert_views.instruments, name="instruments"),
]
