"""The sales manager's SLA pages, included at /manager/sla/."""

from django.urls import path

from routing.reports import views

app_name = "manager_sla"

urlpatterns = [
    path("", views.sla, name="report"),
    path("breaches.csv", views.sla_breaches_csv, name="breaches_csv"),
]
