"""``GET <endpoint>/changes/?changed_after=<cursor>``: what changed since a
poller last asked, oldest change first, with keyset pagination on the rows'
change marker (handoff.changes says why it is not a timestamp)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from handoff.changes import BadCursor, Cursor, changes_after

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


class ChangeQuerySerializer(serializers.Serializer):
    changed_after = serializers.CharField(required=False, max_length=41)
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT
    )

    def validate_changed_after(self, value: str) -> Cursor:
        try:
            return Cursor.parse(value)
        except BadCursor as error:
            raise serializers.ValidationError(str(error)) from None


def change_feed(item_serializer: type[serializers.Serializer], name: str):
    """The ``changes`` action for a viewset whose items ``item_serializer``
    shows; ``name`` names its page in the schema."""
    page = inline_serializer(
        f"{name}ChangePage",
        fields={
            "results": item_serializer(many=True),
            "cursor": serializers.CharField(
                allow_null=True,
                help_text="Send as changed_after next time (null: nothing changed yet).",
            ),
            "next": serializers.URLField(
                allow_null=True,
                help_text="The next page, when this one was full; null when caught up.",
            ),
        },
    )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "changed_after",
                OpenApiTypes.STR,
                description="The cursor of the last page read; leave out to start "
                "from the oldest change.",
            ),
            OpenApiParameter(
                "limit", OpenApiTypes.INT, description=f"Rows per page (1 to {MAX_LIMIT})."
            ),
        ],
        responses=page,
        filters=False,
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def changes(self, request: Request, *args, **kwargs) -> Response:
        query = ChangeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        limit = query.validated_data["limit"]
        rows, cursor = changes_after(
            self.get_queryset(), after=query.validated_data.get("changed_after"), limit=limit
        )
        following = None
        if cursor is not None and len(rows) == limit:
            following = replace_query_param(
                request.build_absolute_uri(), "changed_after", str(cursor)
            )
        return Response(
            {
                "results": item_serializer(rows, many=True, context={"request": request}).data,
                "cursor": None if cursor is None else str(cursor),
                "next": following,
            }
        )

    changes.__doc__ = (
        f"{name} rows created or changed after the cursor, oldest change first. "
        "A row changed again comes again, once, with its new state."
    )
    return changes
