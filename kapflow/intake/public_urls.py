from django.urls import path

from kapflow.intake import public_views

app_name = "public"

urlpatterns = [
    path("", public_views.home, name="home"),
    path("how-kap-works/", public_views.how_kap_works, name="how"),
    path("is-kap-for-me/", public_views.prescreen_view, name="prescreen"),
    path("contact/", public_views.contact, name="contact"),
    path("contact/thanks/", public_views.thanks, name="thanks"),
]
