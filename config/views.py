from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader

from handoff.roles import SALES_MANAGER, has_role
from leads.selectors import leads_visible_to
from scoring.models import ModelStatus, ScoringModel

# Said when a refusal carries no message of its own (a bare PermissionDenied).
NOT_ALLOWED = "Your account is not allowed to see this page."
SERVER_ERROR = (
    "Something went wrong on our side and the page could not be shown. "
    "It has been logged; try again in a moment."
)


@login_required
def home(request):
    """Each role's starting point: where to go, and how many leads are in view."""
    leads = leads_visible_to(request.user)
    awaiting: list[ScoringModel] = []
    if has_role(request.user, SALES_MANAGER):
        # The definition is joint: a submitted version waits for a manager.
        awaiting = list(
            ScoringModel.objects.filter(status=ModelStatus.SUBMITTED)
            .select_related("submitted_by")
            .order_by("submitted_at")
        )
    return render(request, "home.html", {"lead_count": leads.count(), "awaiting": awaiting})


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A URL that matches nothing: under /api/ an answer in the API's own JSON
    shape (a client reads ``detail``, not an HTML page); elsewhere a page of
    the site, with its navigation, that says so."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "detail": f"No API endpoint at {request.path}: the operations "
                "are listed at /api/docs/."
            },
            status=404,
        )
    return render(request, "404.html", {"path": request.path}, status=404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A refusal as a page of the site: the sentence the view raised
    (``PermissionDenied("Only sales managers see the dashboard.")``) is what
    the person reads."""
    message = str(exception) if isinstance(exception, PermissionDenied) else ""
    return render(request, "403.html", {"message": message or NOT_ALLOWED}, status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    """An unhandled error. Rendered without the request: the context
    processors would ask the database for the user and their roles, and the
    database may be what failed. So the page reads no session and runs no query."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": SERVER_ERROR}, status=500)
    html = loader.get_template("500.html").render({"message": SERVER_ERROR})
    return HttpResponse(html, status=500)
