"""The SDR's day beyond the queue: every lead they own (My leads), and
marking themselves away and back. Four steps each: who is asking, validate,
call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from handoff.errors import DomainError
from handoff.roles import SDR, has_role
from handoff.views_helpers import show_domain_error
from routing.forms import AvailabilityForm, MyLeadsForm
from routing.selectors import leads_of_sdr
from routing.services import set_availability
from routing.services.availability import away_until

MY_LEADS_PAGE_SIZE = 25


def _require_sdr(request: HttpRequest, page: str) -> None:
    if not has_role(request.user, SDR):
        raise PermissionDenied(f"{page} is the SDRs' page.")


@login_required
@require_http_methods(["GET"])
def my_leads(request: HttpRequest) -> HttpResponse:
    """Every lead the SDR owns, whatever its stage, with search, paginated."""
    _require_sdr(request, "My leads")
    form = MyLeadsForm(request.GET or None)
    q = stage = ""
    if form.is_valid():
        q, stage = form.cleaned_data["q"].strip(), form.cleaned_data["stage"]
    leads = leads_of_sdr(request.user, q=q, stage=stage)
    page = Paginator(leads, MY_LEADS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "leads": list(page), "filtered": bool(q or stage)}
    if request.htmx and request.htmx.target == "my-leads-results":
        return render(request, "routing/my_leads.html#results", context)
    return render(request, "routing/my_leads.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def availability(request: HttpRequest) -> HttpResponse:
    """Away until a moment, or back now: routing skips the SDR meanwhile."""
    _require_sdr(request, "Availability")
    form = AvailabilityForm(request.POST or None)
    status = 200
    if request.method == "POST":
        back = request.POST.get("action") == "back"
        if form.is_valid():
            until = None if back else form.cleaned_data["until"]
            if until is None and not back:
                form.add_error("until", "Say until when you are away.")
            else:
                try:
                    set_availability(sdr=request.user, away_until=until, by=request.user)
                except DomainError as error:
                    show_domain_error(form, error)
                else:
                    if until is None:
                        messages.success(request, "Welcome back: new MQLs reach you again.")
                    else:
                        when = f"{timezone.localtime(until):%Y-%m-%d %H:%M}"
                        messages.success(
                            request, f"You are away until {when}: no new MQLs meanwhile."
                        )
                    return redirect("routing:availability")
        status = 400
    return render(
        request,
        "routing/availability.html",
        {"form": form, "away_until": away_until(request.user)},
        status=status,
    )
