from django.urls import path

from liquidbiopsy.views import upload_page

urlpatterns = [
    path("", upload_page, name="upload_page"),
]
