from django.urls import path

from kapflow.scheduling import feed_views

app_name = "feeds"

# The token is secrets.token_urlsafe: letters, digits, "-" and "_" (a slug).
urlpatterns = [
    path("<slug:token>.ics", feed_views.ics_feed, name="ics"),
]
