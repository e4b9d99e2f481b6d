from django.urls import path

from patients import views

app_name = "patients"

# The patient page and the scan form compose several apps; surveillance/urls.py adds them to
# this namespace, so this app imports nothing above it.
urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("<int:patient_id>/regimens/", views.regimen_create, name="regimen_create"),
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
