from django.urls import path

from kapflow.accounts import staff_views

app_name = "staff"

urlpatterns = [
    path("", staff_views.staff_list, name="list"),
    path("invite/", staff_views.staff_invite, name="invite"),
    path(
        "invitations/<int:invitation_id>/revoke/",
        staff_views.invitation_revoke_view,
        name="invitation_revoke",
    ),
    path("<int:membership_id>/", staff_views.staff_detail, name="detail"),
    path("<int:membership_id>/active/", staff_views.staff_set_active, name="set_active"),
    path("<int:membership_id>/reset-2fa/", staff_views.staff_reset_two_factor, name="reset_two_factor"),
]
