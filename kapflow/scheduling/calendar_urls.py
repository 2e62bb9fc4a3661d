from django.urls import path

from kapflow.scheduling import calendar_views, feed_views

app_name = "calendar"

urlpatterns = [
    path("", calendar_views.day, name="day"),
    path("week/", calendar_views.week, name="week"),
    path("today/", calendar_views.today, name="today"),
    path("today/rows/", calendar_views.today_rows, name="today_rows"),
    path("feeds/", feed_views.feeds, name="feeds"),
    path("feeds/<int:feed_id>/revoke/", feed_views.feed_revoke_view, name="feed_revoke"),
]
