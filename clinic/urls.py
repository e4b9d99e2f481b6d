"""The clinic's pages: home, the patient page and its scan form, the dashboard."""

from django.urls import path

from clinic import alerts, dashboard, views

urlpatterns = [
    path("", views.home, name="home"),
    path("patients/<int:patient_id>/", views.patient_detail, name="patient_detail"),
    path("patients/<int:patient_id>/scans/", views.scan_create, name="patient_scan_create"),
    path(
        "patients/<int:patient_id>/regimens/", views.regimen_create, name="patient_regimen_create"
    ),
    path(
        "patients/<int:patient_id>/surveillance/",
        views.surveillance_update,
        name="patient_surveillance_update",
    ),
    path("alerts/<int:alert_id>/", alerts.alert_detail, name="alert_detail"),
    path("alerts/<int:alert_id>/decide/", alerts.alert_decide, name="alert_decide"),
    path("alerts/<int:alert_id>/review/", alerts.alert_review_record, name="alert_review"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/export/<slug:name>.csv", dashboard.dashboard_export, name="dashboard_export"),
    path("vendor/plotly-<str:version>.min.js", views.plotly_js, name="plotly_js"),
]
