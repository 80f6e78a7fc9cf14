from django.urls import path

from routing import views, views_day

app_name = "routing"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("mine/", views_day.my_leads, name="my-leads"),
    path("availability/", views_day.availability, name="availability"),
    path("notices/read/", views.mark_notices_read, name="mark-notices-read"),
    path("<int:pk>/", views.lead, name="lead"),
    path("<int:pk>/<slug:action>/", views.act, name="act"),
]
