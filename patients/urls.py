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
    path("draws/<int:draw_id>/collect/", views.draw_collect, name="draw_collect"),
    path("draws/<int:draw_id>/miss/", views.draw_miss, name="draw_miss"),
    path("draws/<int:draw_id>/cancel/", views.draw_cancel, name="draw_cancel"),
    path("draws/<int:draw_id>/reschedule/", views.draw_reschedule, name="draw_reschedule"),
]
