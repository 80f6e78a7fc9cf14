from django.urls import path

from handoff.notices import views

app_name = "notices"

urlpatterns = [
    path("notices/", views.notice_list, name="list"),
    path("notices/read/", views.mark_read, name="mark-read"),
    path("settings/notices/", views.preferences, name="preferences"),
]
