from django.urls import path

from patients import views
from surveillance.views import patient_detail, scan_create

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("<int:patient_id>/", patient_detail, name="detail"),
    path("<int:patient_id>/regimens/", views.regimen_create, name="regimen_create"),
    path("<int:patient_id>/scans/", scan_create, name="scan_create"),
    path("<int:patient_id>/surveillance/", views.surveillance_update, name="surveillance_update"),
]

# Draw actions and the worklist live at the top level: /worklist/, /draws/<id>/...
draw_urlpatterns = [
    path("worklist/", views.worklist, name="worklist"),
    *(
        path(
            f"draws/<int:draw_id>/{action}/",
            views.draw_action,
            {"action": action},
            name=f"draw_{action}",
        )
        for action in views.DRAW_ACTIONS
    ),
]
