from django.urls import path

from kapflow.courses import portal_views as views

app_name = "portal_courses"

urlpatterns = [
    path("", views.course, name="course"),
    path("intention/", views.intention, name="intention"),
    path("journal/", views.journal, name="journal"),
]
