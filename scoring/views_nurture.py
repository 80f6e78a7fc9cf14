"""Marketing's nurture list: leads that fit but have not engaged (so scoring
moved them to nurture), filtered by source and fit grade, and its CSV export
for nurture programs. Marketing ops only."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from handoff import roles
from handoff.access import role_required
from handoff.csv_safety import csv_time, streamed_csv
from leads.models import Lead
from scoring.forms import NurtureFilterForm
from scoring.selectors import nurtured_leads
from scoring.services.nurture import record_nurture_export

PAGE_SIZE = 50
CSV_HEADER = (
    "lead_id",
    "email",
    "first_name",
    "last_name",
    "title",
    "company",
    "country",
    "source",
    "grade",
    "fit",
    "engagement",
    "total",
    "do_not_contact",
    "nurtured_at",
    "reason",
)

# The page and its export refuse alike.
marketing_ops_only = role_required(
    roles.MARKETING_OPS, message="Only marketing ops see the nurture list."
)


@marketing_ops_only
@require_GET
def nurture(request: HttpRequest) -> HttpResponse:
    """The nurture list, newest first, a page at a time."""
    form = NurtureFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "scoring/nurture.html", {"form": form}, status=400)
    filters = form.filters()
    page = Paginator(nurtured_leads(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "leads": list(page),
        "filtered": any(filters.values()),
        "query": request.GET.urlencode(),
    }
    if request.htmx and request.htmx.target == "nurture-results":
        return render(request, "scoring/nurture.html#results", context)
    return render(request, "scoring/nurture.html", context)


def _nurture_rows(leads: Iterable[Lead]) -> Iterator[list]:
    for lead in leads:
        score = getattr(lead, "score", None)
        yield [
            lead.pk,
            lead.email or "",
            lead.first_name,
            lead.last_name,
            lead.title,
            lead.account.name if lead.account else lead.company_name,
            lead.country,
            lead.source.name,
            score.grade if score else "",
            score.fit if score else "",
            score.engagement if score else "",
            score.total if score else "",
            "yes" if lead.do_not_contact else "no",
            csv_time(lead.nurtured_at),  # type: ignore[attr-defined]
            lead.nurture_reason or "",  # type: ignore[attr-defined]
        ]


@marketing_ops_only
@require_GET
def nurture_csv(request: HttpRequest) -> HttpResponse:
    """The whole filtered list as CSV, streamed (it can hold many leads); every
    cell safe to open in a spreadsheet. The export is in the audit trail."""
    form = NurtureFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain")
    filters = form.filters()
    leads: QuerySet[Lead] = nurtured_leads(**filters)
    source = form.cleaned_data.get("source")
    record_nurture_export(
        by=request.user,  # type: ignore[arg-type]
        source=source.name if source else "",
        grade=str(filters["grade"]),
        leads=leads.count(),
    )
    response = StreamingHttpResponse(
        streamed_csv(CSV_HEADER, _nurture_rows(leads.iterator(chunk_size=2000))),
        content_type="text/csv; charset=utf-8",
    )
    parts = [source.slug if source else "", f"grade-{filters['grade']}" if filters["grade"] else ""]
    suffix = "".join(f"-{p}" for p in parts if p)
    response["Content-Disposition"] = (
        f'attachment; filename="nurture{suffix}-{timezone.localdate():%Y-%m-%d}.csv"'
    )
    return response
