"""The project's URL map: it only assembles each app's own routes (declared once, in the app).

Pages keep their app's namespace (`patients:`, `alerts:`, `notifications:`); the API is one
`api:` namespace made of each app's `api_urls`.
"""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

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
    path("", include("patients.draw_api_urls")),
    path("", include("therapy.api_urls")),
    path("", include("clinic.api_urls")),
]

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("clinic.urls")),
    path("patients/", include("patients.urls")),
    path("", include("patients.draw_urls")),
    path("notifications/", include("notifications.urls")),
    path("uploads/", include("liquidbiopsy.urls")),
    path("alerts/", include("therapy.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"))),
]

admin.site.site_header = "ESR1 ctDNA surveillance: administration"
admin.site.site_title = "Surveillance admin"

handler404 = "clinic.views.not_found"
handler500 = "clinic.views.server_error"
