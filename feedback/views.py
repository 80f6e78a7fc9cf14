"""Feedback pages: an SDR marks an accepted lead as an SQL; the sales
manager's dashboard of conversion, acceptance and pipeline.

Every view goes in four steps: who is asking, validate (a form), call a
service or a selector, render (the page, or for htmx only the fragment).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from feedback import services
from feedback.forms import DashboardFilterForm, SQLForm
from feedback.metrics import HEALTHY_BAND, dashboard_report
from feedback.models import SQLQualification
from handoff import roles
from handoff.access import role_required
from handoff.errors import DomainError
from handoff.views_helpers import show_domain_error
from leads.models import Lead, Stage

SQL_TEMPLATE = "feedback/qualify_sql.html"
DASHBOARD_TEMPLATE = "feedback/dashboard.html"


# --- SQL qualification ---------------------------------------------------------------------


def _lead_accepted_by(request: HttpRequest, lead_id: int) -> Lead:
    """The lead, if the user is the SDR who accepted it; 404 for anybody else,
    as if it did not exist."""
    lead = get_object_or_404(Lead.objects.select_related("source"), pk=lead_id)
    if services.accepted_by(lead) != request.user.pk:
        raise Http404("No lead you accepted has this id.")
    return lead


def _sql_context(lead: Lead, form: SQLForm | None = None, *, done: str = "") -> dict[str, Any]:
    qualification = (
        SQLQualification.objects.filter(lead=lead).select_related("qualified_by").first()
    )
    return {
        "lead": lead,
        "form": form or SQLForm(),
        "qualification": qualification,
        "can_qualify": lead.stage == Stage.SAL,
        "done": done,
    }


@login_required
@require_http_methods(["GET", "POST"])
def qualify_sql(request: HttpRequest, lead_id: int) -> HttpResponse:
    """The BANT form; on success the lead is an SQL. Answers htmx with the
    panel alone (errors included, as 200 so that htmx swaps them in)."""
    lead = _lead_accepted_by(request, lead_id)
    if request.method == "GET":
        return render(request, SQL_TEMPLATE, _sql_context(lead))
    form = SQLForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            services.qualify_sql(lead=lead, by=request.user, **form.cleaned_data)
        except DomainError as error:
            show_domain_error(form, error)
            status = error.status_code
        else:
            done = f"{lead.full_name or lead} is a sales qualified lead (SQL) now."
            lead.refresh_from_db()
            if request.htmx:
                return render(request, f"{SQL_TEMPLATE}#panel", _sql_context(lead, done=done))
            messages.success(request, done)
            return redirect("feedback:qualify_sql", lead_id=lead.pk)
    lead.refresh_from_db()
    if request.htmx:
        return render(request, f"{SQL_TEMPLATE}#panel", _sql_context(lead, form))
    return render(request, SQL_TEMPLATE, _sql_context(lead, form), status=status)


# --- The manager's dashboard ------------------------------------------------------------------


@role_required(roles.SALES_MANAGER, message="Only sales managers see the dashboard.")
@require_http_methods(["GET"])
def dashboard(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    form = DashboardFilterForm(request.GET, today=timezone.localdate(now))
    if not form.is_valid():
        return render(request, DASHBOARD_TEMPLATE, {"form": form, "band": HEALTHY_BAND}, status=400)
    filters = form.filters()
    return render(
        request,
        DASHBOARD_TEMPLATE,
        {
            "form": form,
            "band": HEALTHY_BAND,
            "filters": filters,
            "report": dashboard_report(filters, now=now),
        },
    )
