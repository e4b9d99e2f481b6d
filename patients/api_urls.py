from django.urls import path

from patients import api

urlpatterns = [
    path("patients/", api.PatientListCreateApi.as_view(), name="patients"),
    path("patients/<int:patient_id>/", api.PatientDetailApi.as_view(), name="patient"),
    path(
        "patients/<int:patient_id>/regimens/",
        api.PatientRegimenCreateApi.as_view(),
        name="patient-regimens",
    ),
]
