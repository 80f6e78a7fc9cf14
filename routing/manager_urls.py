"""The sales manager's SLA pages, included at /manager/sla/."""

from django.urls import path

from routing import manager_views

app_name = "manager_sla"

urlpatterns = [
    path("", manager_views.sla, name="report"),
    path("breaches.csv", manager_views.sla_breaches_csv, name="breaches_csv"),
]
