"""The notices pages: every signed-in person's list of notices and their
settings. Views in four steps: who is asking (signed in), validate, call a
service, render (or, for htmx, the fragment that changed)."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from handoff.models import NoticePreferences
from handoff.notices import services
from handoff.notices.forms import MarkNoticesReadForm, NoticePreferencesForm
from handoff.notices.selectors import notices_of, unread_notices

PAGE_SIZE = 25


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _person(request: HttpRequest) -> User:
    """Who is asking: every view here is behind login_required."""
    return cast(User, request.user)


def _list_context(request: HttpRequest) -> dict[str, Any]:
    page = Paginator(notices_of(_person(request)), PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "page": page,
        "notices": list(page),
        "notice_count": unread_notices(_person(request)).count(),
    }


@login_required
@require_GET
def notice_list(request: HttpRequest) -> HttpResponse:
    """The person's notices, newest first, unread ones marked, paginated."""
    return render(request, "handoff/notices/list.html", _list_context(request))


@login_required
@require_POST
def mark_read(request: HtmxHttpRequest) -> HttpResponse:
    """Marks one notice (``notice``) or all of the person's notices read."""
    form = MarkNoticesReadForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Give the id of a notice, or nothing for all.", status=400)
    notice = form.cleaned_data["notice"]
    services.mark_notices_read(
        user=_person(request), notice_ids=[notice] if notice is not None else None
    )
    if request.htmx:
        return render(
            request, "handoff/notices/list.html#list", {**_list_context(request), "oob": True}
        )
    return redirect("notices:list")


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """Which notices reach the person how, and their chat webhook."""
    person = _person(request)
    current = NoticePreferences.objects.filter(user=person).first()
    form = NoticePreferencesForm(request.POST or None, preferences=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_notice_preferences(
                user=person,
                channels=form.channels(),
                chat_url=form.cleaned_data["chat_url"],
            )
        except ValidationError as error:
            form.add_error("chat_url", error)
        else:
            messages.success(request, "Saved: your notices reach you as chosen.")
            return redirect("notices:preferences")
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(
        request,
        "handoff/notices/preferences.html",
        {"form": form, "notice_count": unread_notices(_person(request)).count()},
        status=status,
    )
