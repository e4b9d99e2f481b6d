from django.urls import path

from clinic import api

urlpatterns = [
    path("patients/<int:patient_id>/", api.PatientDetailApi.as_view(), name="patient"),
    path(
        "patients/<int:patient_id>/regimens/",
        api.PatientRegimensApi.as_view(),
        name="patient-regimens",
    ),
    path("patients/<int:patient_id>/scans/", api.PatientScansApi.as_view(), name="patient-scans"),
    path("reports/", api.ReportsApi.as_view(), name="reports"),
    path("reports/upload/", api.ReportUploadApi.as_view(), name="reports-upload"),
    path("uploads/<int:upload_id>/", api.UploadDetailApi.as_view(), name="upload"),
]
