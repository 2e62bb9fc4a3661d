from django.urls import path

from kapflow.intake import page_views, views

app_name = "intake"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("<uuid:request_id>/", views.detail, name="detail"),
    path("<uuid:request_id>/convert/", views.convert, name="convert"),
    path("<uuid:request_id>/<slug:what>/", views.act, name="act"),
    path("pages/<slug:slug>/", page_views.edit_page, name="edit_page"),
]
