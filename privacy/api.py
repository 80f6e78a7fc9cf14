"""REST API for a person's data: erase one (and list the erasures), export one.

Open to people holding the permissions of their own (``privacy.erase_person``,
``privacy.export_person``), never to integrations' tokens."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from handoff.api.permissions import TokenScopes
from handoff.validators import MAX_ID
from leads.models import Lead
from privacy.models import Erasure
from privacy.services import erase_person, export_person


def _holds(permission: str) -> type[BasePermission]:
    class Holds(BasePermission):
        message = f"This needs the permission {permission}."

        def has_permission(self, request, view):
            return bool(request.user.is_authenticated and request.user.has_perm(permission))

    return Holds


class ErasureSerializer(serializers.ModelSerializer):
    class Meta:
        model = Erasure
        fields = [
            "id",
            "lead",
            "pseudonym",
            "request_reference",
            "erased_by_name",
            "erased_at",
            "rows",
            "files",
        ]
        read_only_fields = fields


class EraseSerializer(serializers.Serializer):
    lead = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="The lead's id.")
    request_reference = serializers.CharField(
        max_length=200, help_text="Which request this answers: a ticket, a letter's date."
    )


class ErasureViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Erasures done; POST erases a person (the lead's id, and which request)."""

    permission_classes = [TokenScopes, _holds("privacy.erase_person")]
    serializer_class = ErasureSerializer
    queryset = Erasure.objects.all()

    @extend_schema(request=EraseSerializer, responses={201: ErasureSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        given = EraseSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        lead = Lead.objects.filter(pk=given.validated_data["lead"]).first()
        if lead is None:
            return Response(
                {"lead": [f"No lead has the id {given.validated_data['lead']}."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        erasure = erase_person(
            lead=lead,
            by=request.user,
            request_reference=given.validated_data["request_reference"],
        )
        return Response(ErasureSerializer(erasure).data, status=status.HTTP_201_CREATED)


class PersonExportViewSet(viewsets.GenericViewSet):
    """Everything held about one person, by their lead's id, as JSON."""

    permission_classes = [TokenScopes, _holds("privacy.export_person")]
    queryset = Lead.objects.all()
    lookup_value_regex = "[0-9]{1,19}"

    @extend_schema(responses={200: dict})
    def retrieve(self, request: Request, pk: str, **kwargs) -> Response:
        if int(pk) > MAX_ID:
            return Response({"detail": "No such lead."}, status=status.HTTP_404_NOT_FOUND)
        lead = get_object_or_404(Lead, pk=pk)
        return Response(export_person(lead=lead))
