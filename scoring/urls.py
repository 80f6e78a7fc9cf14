from django.urls import path

from scoring import views, views_nurture

app_name = "scoring"

urlpatterns = [
    path("definition/", views.definition, name="definition"),
    path("nurture/", views_nurture.nurture, name="nurture"),
    path("nurture.csv", views_nurture.nurture_csv, name="nurture_csv"),
]
