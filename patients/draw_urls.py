"""The worklist and the draw actions, at the top level: /worklist/, /draws/<id>/<action>/."""

from django.urls import path

from patients import views

urlpatterns = [
    path("worklist/", views.worklist, name="worklist"),
    path("worklist/scan/", views.worklist_scan, name="worklist_scan"),
    path("worklist/scan/clear/", views.worklist_scan_clear, name="worklist_scan_clear"),
    path("draws/<int:draw_id>/undo-collect/", views.draw_undo_collect, name="draw_undo_collect"),
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
