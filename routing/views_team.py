"""The manager's view of the team: each SDR's load and availability, and
reassigning MQLs (one, several, or a whole SDR's queue) with a reason."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from handoff.errors import DomainError
from handoff.roles import SALES_MANAGER, has_role
from handoff.views_helpers import show_domain_error
from routing.forms import ReassignForm
from routing.selectors import open_assignments_of, sdr_loads, sdrs_in_queues
from routing.services import reassign_mqls
from routing.views import time_left

TEAM_PAGE_SIZE = 25


def _require_manager(request: HttpRequest) -> None:
    if not has_role(request.user, SALES_MANAGER):
        raise PermissionDenied("Only sales managers see the team's load.")


def _context(request: HttpRequest, sdr: User | None, form: ReassignForm | None = None) -> dict:
    now = timezone.now()
    context: dict = {"loads": sdr_loads(now=now), "chosen": sdr}
    if sdr is not None:
        page = Paginator(open_assignments_of(sdr), TEAM_PAGE_SIZE).get_page(request.GET.get("page"))
        context["page"] = page
        context["rows"] = [(a, *time_left(a.due_at, now)) for a in page]
        context["form"] = form or ReassignForm(
            sdrs=sdrs_in_queues().exclude(pk=sdr.pk), auto_id="reassign_%s"
        )
    return context


@login_required
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    """Each SDR's open MQLs, overdue ones, capacity and absence; with ``sdr``,
    that SDR's open MQLs, to reassign."""
    _require_manager(request)
    sdr = None
    if request.GET.get("sdr", "").isdigit():
        sdr = get_object_or_404(sdrs_in_queues(), pk=int(request.GET["sdr"]))
    return render(request, "routing/team.html", _context(request, sdr))


@login_required
@require_POST
def reassign(request: HttpRequest, sdr_id: int) -> HttpResponse:
    """Moves the chosen MQLs of one SDR (or all of them) to another SDR."""
    _require_manager(request)
    sdr = get_object_or_404(sdrs_in_queues(), pk=sdr_id)
    open_ids = list(open_assignments_of(sdr).values_list("pk", flat=True))
    form = ReassignForm(
        request.POST,
        sdrs=sdrs_in_queues().exclude(pk=sdr.pk),
        assignment_ids=open_ids,
        auto_id="reassign_%s",
    )
    if form.is_valid():
        ids = open_ids if request.POST.get("all") else form.cleaned_data["assignments"]
        to = form.cleaned_data["to"]
        try:
            moved = reassign_mqls(
                assignment_ids=ids, to=to, reason=form.cleaned_data["reason"], by=request.user
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            n = len(moved)
            messages.success(
                request,
                f"Reassigned {n:,} MQL{'s' if n != 1 else ''} to {to.get_full_name() or to}; "
                "they were told.",
            )
            return redirect(f"{reverse('team:load')}?sdr={sdr.pk}")
    return render(request, "routing/team.html", _context(request, sdr, form), status=400)
