from django.urls import path

from patients import api

urlpatterns = [
    path("patients/", api.PatientListCreateApi.as_view(), name="patients"),
]
