"""Feedback pages, included at the site's root: the manager's dashboard at
/manager/ (the SLA page beside it, /manager/sla/, is routing's) and an SDR's
SQL qualification of a lead they accepted."""

from django.urls import path

from feedback import views

app_name = "feedback"

urlpatterns = [
    path("manager/", views.dashboard, name="dashboard"),
    path("feedback/leads/<int:lead_id>/sql/", views.qualify_sql, name="qualify_sql"),
]
