from django.urls import path

from therapy import views

app_name = "alerts"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:alert_id>/", views.alert_detail, name="detail"),
    path("<int:alert_id>/decide/", views.alert_decide, name="decide"),
]
