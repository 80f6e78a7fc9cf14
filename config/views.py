from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.defaults import page_not_found

from leads.selectors import leads_visible_to


@login_required
def home(request):
    """Each role's starting point: where to go, and how many leads are in view."""
    leads = leads_visible_to(request.user)
    return render(request, "home.html", {"lead_count": leads.count()})


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A URL that matches nothing: under /api/ an answer in the API's own JSON
    shape (a client reads ``detail``, not an HTML page); elsewhere Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "detail": f"No API endpoint at {request.path}: the operations "
                "are listed at /api/docs/."
            },
            status=404,
        )
    return page_not_found(request, exception)
