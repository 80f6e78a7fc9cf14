"""REST API of webhook endpoints: integrations (a token with the
webhooks:manage scope) and marketing ops add, list, change, pause and
delete them, and rotate their signing secret. The secret is in the answer
of the POST that makes it (creation, rotation) and never again."""

from __future__ import annotations

from typing import cast

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from handoff import audit
from handoff.models import SUBSCRIBABLE_EVENT_TYPES, EndpointStatus, WebhookEndpoint
from handoff.webhooks import services


def _person(request) -> User:
    """The signed-in person (the views are behind login and permissions)."""
    return cast(User, request.user)


# What a client may set; "disabled" is the system's to set.
SETTABLE_STATUSES = [
    (EndpointStatus.ACTIVE.value, "Active"),
    (EndpointStatus.PAUSED.value, "Paused"),
]


class WebhookEndpointSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE_EVENT_TYPES),
        allow_empty=False,
        help_text="The event types it receives.",
    )
    status = serializers.ChoiceField(
        choices=SETTABLE_STATUSES,
        default=EndpointStatus.ACTIVE,
        help_text='"active" or "paused"; reads may also say "disabled" (it kept failing).',
    )
    url = serializers.URLField(max_length=500)

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "name",
            "url",
            "event_types",
            "status",
            "disabled_reason",
            "failing_since",
            "created_at",
        ]
        read_only_fields = ["id", "disabled_reason", "failing_since", "created_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["status"] = instance.status  # "disabled" too
        return data


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="The whsec_ signing secret: shown in this answer only."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


def _with_secret(made: services.EndpointWithSecret) -> dict:
    data = WebhookEndpointWithSecretSerializer(made.endpoint).data
    data["secret"] = made.secret
    return data


class WebhookEndpointViewSet(viewsets.ModelViewSet):
    """Endpoints that receive signed events. POST answers with the signing
    secret, once; `rotate-secret` makes a new one (the old one keeps signing
    for a grace period)."""

    serializer_class = WebhookEndpointSerializer
    queryset = WebhookEndpoint.objects.order_by("name", "id")

    @extend_schema(responses={201: WebhookEndpointWithSecretSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        given = self.get_serializer(data=request.data)
        given.is_valid(raise_exception=True)
        made = services.create_endpoint(
            name=given.validated_data.get("name", ""),
            url=given.validated_data["url"],
            event_types=given.validated_data["event_types"],
            active=given.validated_data["status"] == EndpointStatus.ACTIVE,
            by=_person(request),
        )
        return Response(_with_secret(made), status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args, **kwargs) -> Response:
        endpoint = self.get_object()
        given = self.get_serializer(endpoint, data=request.data, partial=kwargs.get("partial"))
        given.is_valid(raise_exception=True)
        data = given.validated_data
        changed = services.change_endpoint(
            endpoint=endpoint,
            by=_person(request),
            name=data.get("name"),
            url=data.get("url"),
            event_types=data.get("event_types"),
            status=data.get("status") if "status" in request.data else None,
        )
        return Response(self.get_serializer(changed).data)

    def perform_destroy(self, instance: WebhookEndpoint) -> None:
        audit.record(actor=_person(self.request), action="deleted", obj=instance, note=instance.url)
        instance.delete()

    @extend_schema(request=None, responses={200: WebhookEndpointWithSecretSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-secret", url_name="rotate")
    def rotate_secret(self, request: Request, pk=None) -> Response:
        made = services.rotate_secret(endpoint=self.get_object(), by=_person(request))
        return Response(_with_secret(made))
