from django.urls import path

from routing import views_team

app_name = "team"

urlpatterns = [
    path("", views_team.team, name="load"),
    path("<int:sdr_id>/reassign/", views_team.reassign, name="reassign"),
]
