from django.urls import path

from patients import views
from surveillance.views import patient_detail

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("<int:patient_id>/", patient_detail, name="detail"),
    path("<int:patient_id>/regimens/", views.regimen_create, name="regimen_create"),
    path("<int:patient_id>/scans/", views.scan_create, name="scan_create"),
]
