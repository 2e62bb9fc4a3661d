from django.urls import URLPattern, path

from kapflow.dosing import stock_views

app_name = "stock"

urlpatterns: list[URLPattern] = [
    path("", stock_views.lots, name="lots"),
    path("receive/", stock_views.receive, name="receive"),
    path("report/", stock_views.report, name="report"),
    path("report.csv", stock_views.report_csv, name="report_csv"),
    path("<uuid:lot_id>/", stock_views.lot_detail, name="lot"),
    path("<uuid:lot_id>/waste/", stock_views.waste, name="waste"),
    path("<uuid:lot_id>/count/", stock_views.count, name="count"),
]
