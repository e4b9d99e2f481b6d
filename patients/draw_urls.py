"""The worklist and the draw actions, at the top level: /worklist/, /draws/<id>/<action>/."""

from django.urls import path

from patients import views

urlpatterns = [
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
