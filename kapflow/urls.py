from django.urls import URLPattern, URLResolver, include, path

from kapflow.core import views as core_views

clinic_patterns: list[URLPattern | URLResolver] = [
    path("", core_views.clinic_home, name="clinic_home"),
    path("patients/", include("kapflow.patients.urls")),
    path("intake/", include("kapflow.intake.urls")),
    path("measures/", include("kapflow.measures.urls")),
    path("consent/", include("kapflow.consent.urls")),
    path("screening/", include("kapflow.screening.urls")),
    path("courses/", include("kapflow.courses.urls")),
    path("psychotherapy/", include("kapflow.courses.psychotherapy_urls")),
    path("dosing/", include("kapflow.dosing.urls")),
    path("stock/", include("kapflow.dosing.stock_urls")),
    path("protocols/", include("kapflow.dosing.protocol_urls")),
    path("schedule/", include("kapflow.scheduling.urls")),
    path("calendar/", include("kapflow.scheduling.calendar_urls")),
    path("outcomes/", include("kapflow.outcomes.urls")),
    path("portal/", include("kapflow.portal.staff_urls")),
    path("staff/", include("kapflow.accounts.staff_urls")),
    path("settings/", include("kapflow.clinics.urls")),
    path("", include("kapflow.core.urls")),
]

urlpatterns = [
    # The public site: the default clinic at /, every clinic under /clinics/<slug>/.
    path("", include("kapflow.intake.public_urls")),
    path("clinics/<slug:clinic>/", include("kapflow.intake.public_urls", namespace="clinic_public")),
    path("app/", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("kapflow.accounts.urls")),
    path("portal/", include("kapflow.portal.urls")),
    path("portal/measures/", include("kapflow.measures.portal_urls")),
    path("portal/consent/", include("kapflow.consent.portal_urls")),
    path("portal/health/", include("kapflow.screening.portal_urls")),
    path("portal/course/", include("kapflow.courses.portal_urls")),
    path("portal/appointments/", include("kapflow.scheduling.portal_urls")),
    path("feeds/", include("kapflow.scheduling.feed_urls")),
    path("api/", include("kapflow.api.urls")),
    path("fhir/", include("kapflow.fhir.urls")),
    path("c/<slug:clinic>/", include(clinic_patterns)),
]

handler400 = "kapflow.core.views.bad_request"
handler403 = "kapflow.core.views.permission_denied"
handler404 = "kapflow.core.views.page_not_found"
handler500 = "kapflow.core.views.server_error"
