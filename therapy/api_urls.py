from django.urls import path

from therapy import api

urlpatterns = [
    path("alerts/", api.AlertListApi.as_view(), name="alerts"),
    path("alerts/<int:alert_id>/", api.AlertDetailApi.as_view(), name="alert"),
    path(
        "alerts/<int:alert_id>/acknowledge/",
        api.AlertAcknowledgeApi.as_view(),
        name="alert-acknowledge",
    ),
    path("alerts/<int:alert_id>/review/", api.AlertReviewApi.as_view(), name="alert-review"),
]
