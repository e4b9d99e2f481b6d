from django.urls import path

from patients import draw_api

urlpatterns = [
    path("draws/", draw_api.DrawListApi.as_view(), name="draws"),
    path("draws/<int:draw_id>/", draw_api.DrawDetailApi.as_view(), name="draw"),
    path("draws/<int:draw_id>/collect/", draw_api.DrawCollectApi.as_view(), name="draw-collect"),
    path("draws/<int:draw_id>/miss/", draw_api.DrawMissApi.as_view(), name="draw-miss"),
    path("draws/<int:draw_id>/cancel/", draw_api.DrawCancelApi.as_view(), name="draw-cancel"),
    path(
        "draws/<int:draw_id>/reschedule/",
        draw_api.DrawRescheduleApi.as_view(),
        name="draw-reschedule",
    ),
]
