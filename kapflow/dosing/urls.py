from django.urls import path

from kapflow.dosing import views

app_name = "dosing"

urlpatterns = [
    path("patients/<uuid:patient_id>/", views.patient_sessions, name="patient"),
    path("courses/<uuid:course_id>/check-in/", views.check_in, name="check_in"),
    path("<uuid:session_id>/", views.session_page, name="session"),
    path("<uuid:session_id>/live/", views.live, name="live"),
    path("<uuid:session_id>/pre-dose/", views.predose, name="predose"),
    path("<uuid:session_id>/readings/<slug:kind>/", views.reading, name="reading"),
    path("<uuid:session_id>/override/", views.override, name="override"),
    path("<uuid:session_id>/administer/", views.administer, name="administer"),
    path("<uuid:session_id>/events/", views.event, name="event"),
    path("<uuid:session_id>/discharge/", views.discharge, name="discharge"),
    path("<uuid:session_id>/cancel/", views.cancel, name="cancel"),
    path("<uuid:session_id>/addenda/", views.addendum, name="addendum"),
    path("<uuid:session_id>/guide-note/", views.guide_note, name="guide_note"),
    path("<uuid:session_id>/record.pdf", views.session_pdf, name="pdf"),
]
