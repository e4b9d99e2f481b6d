from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from liquidbiopsy.views import upload_page
from patients.urls import draw_urlpatterns
from patients.urls import urlpatterns as patient_pages
from surveillance import dashboard, lab_api, views
from therapy import api as therapy_api

api_v1 = [
    # The contract is public (it holds no data); every data call needs a login or token.
    path(
        "schema/",
        SpectacularAPIView.as_view(permission_classes=[AllowAny], authentication_classes=[]),
        name="schema",
    ),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(
            url_name="api:schema", permission_classes=[AllowAny], authentication_classes=[]
        ),
        name="docs",
    ),
    path("", include("patients.api_urls")),
    # Recording a scan re-runs the switch rule: the workflow-bound view.
    path(
        "patients/<int:patient_id>/scans/",
        lab_api.PatientScanApi.as_view(),
        name="patient-scans",
    ),
    path("", include("patients.draw_api_urls")),
    path("reports/", lab_api.ReportsApi.as_view(), name="reports"),
    path("reports/upload/", lab_api.ReportUploadApi.as_view(), name="reports-upload"),
    path("uploads/<int:upload_id>/", lab_api.UploadDetailApi.as_view(), name="upload"),
    path("alerts/", therapy_api.AlertListApi.as_view(), name="alerts"),
    path("alerts/<int:alert_id>/", therapy_api.AlertDetailApi.as_view(), name="alert"),
    path(
        "alerts/<int:alert_id>/acknowledge/",
        therapy_api.AlertAcknowledgeApi.as_view(),
        name="alert-acknowledge",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "patients/",
        include(
            (
                [
                    *patient_pages,
                    path("<int:patient_id>/", views.patient_detail, name="detail"),
                    path("<int:patient_id>/scans/", views.scan_create, name="scan_create"),
                ],
                "patients",
            )
        ),
    ),
    *draw_urlpatterns,
    path("notifications/", include("notifications.urls")),
    path("uploads/", upload_page, name="upload_page"),
    path("alerts/", include("therapy.urls")),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/export/<slug:name>.csv", dashboard.dashboard_export, name="dashboard_export"),
    path("vendor/plotly-<str:version>.min.js", views.plotly_js, name="plotly_js"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"))),
]

admin.site.site_header = "ESR1 ctDNA surveillance: administration"
admin.site.site_title = "Surveillance admin"

handler404 = "surveillance.views.not_found"
handler500 = "surveillance.views.server_error"
