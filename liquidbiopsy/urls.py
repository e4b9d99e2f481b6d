from django.urls import path

from liquidbiopsy import views

urlpatterns = [
    path("", views.upload_page, name="upload_page"),
    path("recent/", views.upload_recent, name="upload_recent"),
    path("awaiting/", views.awaiting_results, name="lab_awaiting"),
    path("template.csv", views.csv_template_download, name="upload_template"),
    path("<int:upload_id>/", views.upload_detail, name="upload_detail"),
    path("<int:upload_id>/panel/", views.upload_panel, name="upload_panel"),
]
