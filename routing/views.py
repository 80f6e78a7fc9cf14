"""The SDR's day in the browser: My MQLs, a lead's page, and what to do with it.

Every view goes in four steps: who is asking, validate (a form), call a
service, render (the page, or for htmx only the fragment that changed).

Who sees what: the queue is an SDR's own. A lead page opens for the SDR it is
assigned to (another SDR gets 404, as if it did not exist) and, read-only, for
sales managers; only the assigned SDR may act on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from handoff.errors import DomainError
from handoff.notices.forms import MarkNoticesReadForm
from handoff.notices.selectors import unread_notices
from handoff.notices.services import mark_notices_read as mark_read
from handoff.roles import SALES_MANAGER, SDR, has_role
from handoff.templatetags.handoff import duration
from handoff.views_helpers import show_domain_error
from routing import services
from routing.filters import AssignmentFilter
from routing.forms import AcceptForm, ReassignForm, RecycleForm, RejectForm, TouchForm
from routing.models import Assignment, AssignmentStatus
from routing.selectors import (
    assignments_for_sdr,
    assignments_viewable_on_pages,
    lead_file,
    lead_score,
    sdrs_in_queues,
    stage_history,
    touches_of,
)
from routing.services.decisions import RejectReason

QUEUE_PAGE_SIZE = 25
# A few, above the queue: the queue itself is what the SDR came for; the
# notices page holds the rest.
NOTICES_SHOWN = 5
REASONS_SHOWN = 3
REASON_LABELS = dict(RejectReason.choices)


# --- Presentation helpers ------------------------------------------------------------


def time_left(due_at: datetime | None, now: datetime) -> tuple[str, bool]:
    """(“due in 1 h 20 min” or “overdue by 3 h 00 min”, whether it is overdue)."""
    if due_at is None:
        return "no due time", False
    if due_at <= now:
        return f"overdue by {duration(now - due_at)}", True
    return f"due in {duration(due_at - now)}", False


def top_reasons(explanation: list[dict[str, Any]] | None, n: int = REASONS_SHOWN) -> list[str]:
    """The rules that gave the most points, e.g. ["Demo request +30", …]."""
    lines = [line for line in explanation or [] if (line.get("points") or 0) > 0]
    lines.sort(key=lambda line: line["points"], reverse=True)
    return [f"{line['rule']} +{line['points']:g}" for line in lines[:n]]


@dataclass(frozen=True)
class QueueRow:
    assignment: Assignment
    score: Any
    time_left: str
    overdue: bool
    reasons: list[str]


def _row(assignment: Assignment, now: datetime) -> QueueRow:
    score = lead_score(assignment.lead)
    text, overdue = time_left(assignment.due_at, now)
    return QueueRow(
        assignment=assignment,
        score=score,
        time_left=text,
        overdue=overdue,
        reasons=top_reasons(score.explanation if score else None),
    )


def _notices(user) -> dict[str, Any]:
    unread = unread_notices(user)
    return {"notices": list(unread[:NOTICES_SHOWN]), "notice_count": unread.count()}


# --- Who is asking -------------------------------------------------------------------


def _require_sdr(request: HttpRequest) -> None:
    if not has_role(request.user, SDR):
        raise PermissionDenied("My MQLs is the SDRs' page.")


def _require_lead_page_role(request: HttpRequest) -> None:
    if not has_role(request.user, SDR, SALES_MANAGER):
        raise PermissionDenied("Lead pages are for SDRs and sales managers.")


# --- My MQLs ---------------------------------------------------------------------------


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """The SDR's open MQLs, most urgent first, filtered and paginated."""
    _require_sdr(request)
    filterset = AssignmentFilter(
        request.GET or None, queryset=assignments_for_sdr(request.user), request=request
    )
    page = Paginator(filterset.qs, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    # Filtering validated the form; its valid values say whether any filter is on.
    filtered = filterset.is_bound and any(
        value not in (None, "", []) for value in filterset.form.cleaned_data.values()
    )
    context = {
        "filter": filterset,
        "page": page,
        "rows": [_row(assignment, now) for assignment in page],
        "filtered": filtered,
    }
    if request.htmx and request.htmx.target == "queue-results":
        return render(request, "routing/queue.html#results", context)
    return render(request, "routing/queue.html", {**context, **_notices(request.user)})


@login_required
@require_POST
def mark_notices_read(request: HttpRequest) -> HttpResponse:
    """Marks one notice (``notice``) or all unread notices of the user read."""
    form = MarkNoticesReadForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Give the id of a notice, or nothing for all.", status=400)
    notice = form.cleaned_data["notice"]
    mark_read(user=request.user, notice_ids=[notice] if notice is not None else None)
    if request.htmx:
        return render(
            request, "routing/queue.html#notices", {**_notices(request.user), "oob": True}
        )
    return redirect("routing:queue" if has_role(request.user, SDR) else "home")


# --- A lead's page and the actions on it ------------------------------------------------


def _action_forms(bound: forms.Form | None = None) -> dict[str, forms.Form]:
    # Unique element ids (every form has a note) but plain field names.
    forms_ = {
        "accept_form": AcceptForm(auto_id="accept_%s"),
        "reject_form": RejectForm(auto_id="reject_%s"),
        "recycle_form": RecycleForm(auto_id="recycle_%s"),
        "touch_form": TouchForm(auto_id="touch_%s"),
    }
    if bound is not None:
        forms_[ACTIONS_BY_FORM[type(bound)]] = bound
    return forms_


def _panel_context(
    request: HttpRequest, assignment: Assignment, *, bound: forms.Form | None = None, done: str = ""
) -> dict[str, Any]:
    """What the decision panel shows: status, clock, actions, touches, stage history."""
    text, overdue = time_left(assignment.due_at, timezone.now())
    touches = list(touches_of(assignment))
    for touch in touches:
        touch.reason_label = REASON_LABELS.get(touch.reason, touch.reason)
    return {
        "assignment": assignment,
        "lead": assignment.lead,
        "can_act": (
            assignment.sdr_id == request.user.pk and assignment.status == AssignmentStatus.OPEN
        ),
        "is_open": assignment.status == AssignmentStatus.OPEN,
        "time_left": text,
        "overdue": overdue,
        "touches": touches,
        "stage_changes": list(stage_history(assignment.lead)),
        "done": done,
        # Refusals that name no field (a stale action, say) show above everything.
        "alert_errors": list(bound.non_field_errors()) if bound is not None else [],
        **_action_forms(bound),
    }


def _page_context(
    request: HttpRequest, assignment: Assignment, *, bound: forms.Form | None = None
) -> dict[str, Any]:
    context = {
        **_panel_context(request, assignment, bound=bound),
        "file": lead_file(assignment, viewer=request.user),
        "why": assignment.why or {},
        "notice_count": unread_notices(request.user).count(),
    }
    if (
        assignment.status == AssignmentStatus.OPEN
        and assignment.sdr_id is not None
        and has_role(request.user, SALES_MANAGER)
    ):
        # A manager may hand this MQL to someone else (see views_team.reassign).
        context["reassign_form"] = ReassignForm(
            sdrs=sdrs_in_queues().exclude(pk=assignment.sdr_id), auto_id="reassign_%s"
        )
    return context


@login_required
@require_GET
def lead(request: HttpRequest, pk: int) -> HttpResponse:
    """Who the lead is, why it is an MQL, why this SDR got it, and what was done."""
    _require_lead_page_role(request)
    assignment = get_object_or_404(assignments_viewable_on_pages(request.user), pk=pk)
    return render(request, "routing/lead.html", _page_context(request, assignment))


@dataclass(frozen=True)
class Action:
    form: type[forms.Form]
    run: Callable[[Assignment, Any, dict[str, Any]], object]
    done: str


ACTIONS: dict[str, Action] = {
    "accept": Action(
        AcceptForm,
        lambda a, by, data: services.accept_mql(assignment=a, by=by, note=data["note"]),
        "Accepted: {lead} is a sales accepted lead (SAL) now and has left your queue.",
    ),
    "reject": Action(
        RejectForm,
        lambda a, by, data: services.reject_mql(
            assignment=a, by=by, reason=data["reason"], note=data["note"]
        ),
        "Rejected: {lead} has left your queue.",
    ),
    "recycle": Action(
        RecycleForm,
        lambda a, by, data: services.recycle_mql(assignment=a, by=by, note=data["note"]),
        "Recycled: {lead} is back with marketing and has left your queue.",
    ),
    "touch": Action(
        TouchForm,
        lambda a, by, data: services.log_touch(
            assignment=a, by=by, kind=data["kind"], note=data["note"]
        ),
        "Logged: the {kind} with {lead}.",
    ),
}
ACTIONS_BY_FORM = {
    AcceptForm: "accept_form",
    RejectForm: "reject_form",
    RecycleForm: "recycle_form",
    TouchForm: "touch_form",
}


@login_required
@require_POST
def act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Accept, reject, recycle or log a touch; answers the updated decision
    panel to htmx, and redirects to the lead page otherwise."""
    if action not in ACTIONS:
        raise Http404("No such action.")
    spec = ACTIONS[action]
    # 1. Who is asking: the assigned SDR only (others may at most read the page).
    _require_lead_page_role(request)
    assignment = get_object_or_404(assignments_viewable_on_pages(request.user), pk=pk)
    if assignment.sdr_id != request.user.pk:
        raise PermissionDenied("Only the SDR it is assigned to acts on this MQL.")
    # 2. Validate.
    form = spec.form(request.POST, auto_id=f"{action}_%s")
    status = 400
    if form.is_valid():
        # 3. The service decides; its refusals are shown on the form.
        try:
            spec.run(assignment, request.user, form.cleaned_data)
        except DomainError as error:
            show_domain_error(form, error)
            status = error.status_code
        else:
            done = spec.done.format(
                lead=assignment.lead.full_name or assignment.lead,
                kind=form.cleaned_data.get("kind", ""),
            )
            # 4. Render what changed.
            if request.htmx:
                fresh = assignments_viewable_on_pages(request.user).get(pk=pk)
                return render(
                    request, "routing/lead.html#panel", _panel_context(request, fresh, done=done)
                )
            messages.success(request, done)
            return redirect("routing:lead", pk=pk)
    fresh = assignments_viewable_on_pages(request.user).get(pk=pk)
    if request.htmx:
        # htmx swaps only successful answers by default: the fragment with its
        # errors goes back as 200.
        return render(
            request, "routing/lead.html#panel", _panel_context(request, fresh, bound=form)
        )
    return render(
        request, "routing/lead.html", _page_context(request, fresh, bound=form), status=status
    )
