from django.urls import path

from therapy import views

app_name = "alerts"

# The alert page composes the evidence and the timeline: it is the clinic's (clinic/urls.py).

urlpatterns = [
    path("", views.inbox, name="inbox"),
]
