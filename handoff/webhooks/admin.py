"""The admin of outgoing webhooks: endpoints (added with their secret shown
once, rotated, paused, sent a test event), their delivery log, and sending
a delivery again. Registered by handoff.admin."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.defaultfilters import truncatechars
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from handoff.errors import DomainError
from handoff.models import (
    SUBSCRIBABLE_EVENT_TYPES,
    EndpointStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from handoff.webhooks import services
from handoff.webhooks.sending import validate_endpoint_url
from handoff.webhooks.services import EndpointWithSecret


def _person(request) -> User:
    """The signed-in person (the views are behind login and permissions)."""
    return cast(User, request.user)


class EndpointForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(
        choices=SUBSCRIBABLE_EVENT_TYPES,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only these are sent to it.",
    )
    status = forms.ChoiceField(
        choices=[(EndpointStatus.ACTIVE, "Active"), (EndpointStatus.PAUSED, "Paused")],
        help_text="A paused endpoint is sent nothing; events of the meantime are not kept for it.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "event_types", "status"]
        labels = {"url": "URL"}

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        validate_endpoint_url(url)  # http(s), and not this server's own network
        return url


def _show_secret(
    request: HttpRequest, model_admin: admin.ModelAdmin, made: EndpointWithSecret, title: str
) -> HttpResponse:
    response = render(
        request,
        "admin/handoff/webhookendpoint/secret.html",
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.model._meta,
            "title": title,
            "endpoint": made.endpoint,
            "secret": made.secret,
        },
    )
    # The only time the secret is shown: no cache may keep the page.
    response["Cache-Control"] = "no-store"
    return response


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def _may_send(request: HttpRequest) -> bool:
    return request.user.has_perm("handoff.change_webhookendpoint")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Marketing ops add receivers of events; the signing secret is shown
    when it is made (at creation, at rotation), never again."""

    form = EndpointForm
    list_display = ["name", "url", "types", "status", "failing", "log_link"]
    list_filter = ["status"]
    search_fields = ["name", "url"]
    change_form_template = "admin/handoff/webhookendpoint/change_form.html"

    @admin.display(description="event types")
    def types(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.event_types)

    @admin.display(description="failing since")
    def failing(self, endpoint: WebhookEndpoint) -> str:
        if endpoint.failing_since is None:
            return "—"
        return f"{endpoint.failing_since:%Y-%m-%d %H:%M} UTC"

    @admin.display(description="delivery log")
    def log_link(self, endpoint: WebhookEndpoint) -> str:
        return format_html('<a href="{}">Delivery log</a>', _log_url(endpoint))

    def get_fields(self, request, obj=None):
        fields = ["name", "url", "event_types", "status"]
        if obj is not None and obj.status == EndpointStatus.DISABLED:
            return ["disabled_reason", *fields]
        return fields

    def get_readonly_fields(self, request, obj=None):
        return ["disabled_reason"] if obj is not None else []

    def get_urls(self):
        own = [
            path(
                "<int:object_id>/rotate-secret/",
                self.admin_site.admin_view(self.rotate_view),
                name="handoff_webhookendpoint_rotate",
            ),
            path(
                "<int:object_id>/send-test/",
                self.admin_site.admin_view(self.send_test_view),
                name="handoff_webhookendpoint_send_test",
            ),
        ]
        return own + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        endpoint = self.get_object(request, object_id)
        extra = {**(extra_context or {})}
        if endpoint is not None:
            extra["log_url"] = _log_url(endpoint)
            extra["may_send"] = _may_send(request)
        return super().change_view(request, object_id, form_url, extra)

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = EndpointForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                made = services.create_endpoint(
                    name=form.cleaned_data["name"],
                    url=form.cleaned_data["url"],
                    event_types=form.cleaned_data["event_types"],
                    active=form.cleaned_data["status"] == EndpointStatus.ACTIVE,
                    by=_person(request),
                )
            except DomainError as error:
                form.add_error(error.field, error.message)
            else:
                return _show_secret(request, self, made, "Webhook endpoint added")
        return render(
            request,
            "admin/handoff/webhookendpoint/add.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": "Add a webhook endpoint",
                "form": form,
            },
        )

    def save_model(self, request, obj, form, change):
        # Only changes come here (adding has its own page): through the service.
        try:
            services.change_endpoint(
                endpoint=obj,
                by=_person(request),
                name=form.cleaned_data["name"],
                url=form.cleaned_data["url"],
                event_types=form.cleaned_data["event_types"],
                status=form.cleaned_data["status"],
            )
        except DomainError as error:
            # Validated by the form first; a refusal here is a race: say so.
            self.message_user(request, error.message, messages.ERROR)

    def _endpoint_for_action(self, request: HttpRequest, object_id: int) -> WebhookEndpoint:
        endpoint = get_object_or_404(WebhookEndpoint, pk=object_id)
        if not self.has_change_permission(request, endpoint):
            raise PermissionDenied
        return endpoint

    def rotate_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        endpoint = self._endpoint_for_action(request, object_id)
        if request.method != "POST":
            return HttpResponseRedirect(
                reverse("admin:handoff_webhookendpoint_change", args=[endpoint.pk])
            )
        made = services.rotate_secret(endpoint=endpoint, by=_person(request))
        return _show_secret(request, self, made, "Signing secret rotated")

    def send_test_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        endpoint = self._endpoint_for_action(request, object_id)
        if request.method == "POST":
            try:
                event = services.send_test_event(endpoint=endpoint, by=_person(request))
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"Test event {event.message_id} queued for {endpoint.name}: "
                    "its attempts appear in the delivery log.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(_log_url(endpoint))
        return HttpResponseRedirect(
            reverse("admin:handoff_webhookendpoint_change", args=[endpoint.pk])
        )


def _log_url(endpoint: WebhookEndpoint) -> str:
    return (
        reverse("admin:handoff_webhookattempt_changelist") + f"?endpoint__id__exact={endpoint.pk}"
    )


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(ReadOnly):
    """The delivery log: every attempt to send, newest first."""

    list_display = ["when", "endpoint", "event_type", "outcome", "duration", "excerpt"]
    list_filter = ["endpoint", "ok"]
    list_select_related = ["endpoint", "delivery__event"]
    search_fields = ["delivery__event__message_id", "response_excerpt", "error"]
    list_per_page = 50
    actions = ["send_again"]
    fields = (
        "at",
        "endpoint",
        "delivery",
        "status_code",
        "ok",
        "duration_ms",
        "error",
        "response_excerpt",
    )
    readonly_fields = fields

    @admin.display(description="time", ordering="at")
    def when(self, attempt: WebhookAttempt) -> str:
        return f"{timezone.localtime(attempt.at):%Y-%m-%d %H:%M:%S}"

    @admin.display(description="event")
    def event_type(self, attempt: WebhookAttempt) -> str:
        # The webhook-id on hover: what a receiver's logs name.
        return format_html(
            '<span title="{}">{}</span>',
            attempt.delivery.event.message_id,
            attempt.delivery.event.type,
        )

    @admin.display(description="status")
    def outcome(self, attempt: WebhookAttempt) -> str:
        if attempt.status_code is None:
            return f"no answer: {attempt.error}" if attempt.error else "no answer"
        return f"{attempt.status_code}{'' if attempt.ok else ' (failed)'}"

    @admin.display(description="duration", ordering="duration_ms")
    def duration(self, attempt: WebhookAttempt) -> str:
        return f"{attempt.duration_ms:,} ms"

    @admin.display(description="response")
    def excerpt(self, attempt: WebhookAttempt) -> str:
        return truncatechars(attempt.response_excerpt, 60)

    def has_send_permission(self, request: HttpRequest) -> bool:
        return _may_send(request)

    @admin.action(description="Send the selected events again", permissions=["send"])
    def send_again(self, request, queryset):
        deliveries = WebhookDelivery.objects.filter(pk__in=queryset.values("delivery_id")).only(
            "pk", "endpoint_id"
        )
        queued = services.send_again(deliveries=deliveries, by=_person(request))
        self.message_user(
            request,
            f"{queued:,} event{'s' if queued != 1 else ''} queued to be sent again.",
            messages.SUCCESS,
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnly):
    """Where each event stands for each endpoint: pending, sent, given up."""

    list_display = ["event", "endpoint", "status", "attempt_count", "next_attempt_at", "sent_at"]
    list_filter = ["status", "endpoint"]
    list_select_related = ["event", "endpoint"]
    search_fields = ["event__message_id"]
    list_per_page = 50
    actions = ["send_again"]

    @admin.display(description="attempts", ordering="attempts")
    def attempt_count(self, delivery: WebhookDelivery) -> str:
        return f"{delivery.attempts:,}"

    def has_send_permission(self, request: HttpRequest) -> bool:
        return _may_send(request)

    @admin.action(description="Send the selected events again", permissions=["send"])
    def send_again(self, request, queryset):
        queued = services.send_again(deliveries=queryset, by=_person(request))
        self.message_user(
            request,
            f"{queued:,} event{'s' if queued != 1 else ''} queued to be sent again.",
            messages.SUCCESS,
        )
