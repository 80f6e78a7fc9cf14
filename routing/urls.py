from django.urls import path

from routing import views

app_name = "routing"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("notices/read/", views.mark_notices_read, name="mark-notices-read"),
    path("<int:pk>/", views.lead, name="lead"),
    path("<int:pk>/<slug:action>/", views.act, name="act"),
]
