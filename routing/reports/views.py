"""The sales manager's SLA page and its CSV export of breaches."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from handoff import roles
from handoff.access import role_required
from handoff.csv_safety import csv_time, streamed_csv
from routing.reports.filters import SLAFilterForm
from routing.reports.queries import BreachLine, any_assignments, breach_lines, sla_report

TEMPLATE = "routing/manager_sla.html"
CSV_HEADER = (
    "lead_id",
    "lead_email",
    "lead_name",
    "queue",
    "sdr",
    "assigned_at",
    "due_at",
    "first_touch_at",
    "breached_at",
    "minutes_overdue",
)


# The page and its export refuse alike.
managers_only = role_required(
    roles.SALES_MANAGER, message="Only sales managers see the SLA report."
)


@managers_only
def sla(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    form = SLAFilterForm(request.GET, today=timezone.localdate(now))
    if not form.is_valid():
        return render(request, TEMPLATE, {"form": form}, status=400)
    if not any_assignments():
        return render(request, TEMPLATE, {"form": form, "no_assignments": True})
    filters = form.filters()
    return render(
        request,
        TEMPLATE,
        {
            "form": form,
            "filters": filters,
            "report": sla_report(filters, now=now),
            "query": request.GET.urlencode(),
        },
    )


def _breach_rows(lines: Iterable[BreachLine]) -> Iterator[list]:
    for line in lines:
        yield [
            line.lead_id,
            line.lead_email,
            line.lead_name,
            line.queue,
            line.sdr,
            csv_time(line.assigned_at),
            csv_time(line.due_at),
            csv_time(line.first_touch_at),
            csv_time(line.breached_at),
            line.minutes_overdue,
        ]


@managers_only
def sla_breaches_csv(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    form = SLAFilterForm(request.GET, today=timezone.localdate(now))
    if not form.is_valid():
        return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain")
    filters = form.filters()
    response = StreamingHttpResponse(
        streamed_csv(CSV_HEADER, _breach_rows(breach_lines(filters, now=now))),
        content_type="text/csv; charset=utf-8",
    )
    period = (
        f"{filters.start:%Y-%m-%d}-{filters.end:%Y-%m-%d}"
        if filters.end
        else (f"from-{filters.start:%Y-%m-%d}")
    )
    response["Content-Disposition"] = f'attachment; filename="sla-breaches-{period}.csv"'
    return response
