from django.urls import path

from patients import views

app_name = "patients"

# The patient page itself composes several apps, so it is the clinic's (clinic/urls.py).
urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
]
