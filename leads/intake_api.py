"""The standard intake's endpoints: a CDP's calls as the Segment HTTP
Tracking API sends them (``/api/segment/v1/identify|track|page|batch``), and
a web form's submission in one call (``/api/form-submissions/``)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from handoff.api.authentication import BearerTokenAuthentication, WriteKeyAuthentication
from handoff.api.write_only import is_write_only
from handoff.validators import storable_json
from leads import intake
from leads.api import LeadSerializer
from leads.intake_validation import CallSerializer, validated_calls, with_batch_context
from leads.models import Activity, Lead, activity_kind_validator, url_fits_index

IntakeResultSerializer = inline_serializer(
    "SegmentIntakeResult",
    fields={
        "success": serializers.BooleanField(),
        "received": serializers.IntegerField(help_text="Calls received."),
        "stored": serializers.IntegerField(help_text="Activities recorded on leads."),
        "duplicates": serializers.IntegerField(help_text="Events received before (messageId)."),
        "held": serializers.IntegerField(
            help_text="Events of an id no lead has yet, kept until an identify names it."
        ),
        "leads_created": serializers.IntegerField(),
        "leads_updated": serializers.IntegerField(),
    },
)

BatchInSerializer = inline_serializer(
    "SegmentBatch",
    fields={
        "batch": CallSerializer(many=True),
        "context": serializers.DictField(required=False),
    },
)

BAD_CALLS = OpenApiResponse(
    description="A bad call: {detail, errors: {index: {field: [message]}}}; nothing was stored."
)


class SegmentIntakeView(APIView):
    """Base of the Segment-spec endpoints. Authenticated by an API token with
    the scope events:write, sent as Segment sends its write key (HTTP Basic,
    the key as username) or as a bearer token."""

    authentication_classes = [WriteKeyAuthentication, BearerTokenAuthentication]
    basename = "segment"  # its scopes and throttle (handoff.api.scopes, .throttling)
    # Role permissions: recording activities (and the leads they name).
    queryset = Activity.objects.none()
    call_type: str | None = None

    def calls(self, request: Request) -> list[intake.Call]:
        return validated_calls([request.data], call_type=self.call_type)

    def post(self, request: Request) -> Response:
        result = intake.ingest_calls(calls=self.calls(request))
        return Response(
            {
                "success": True,
                "received": result.received,
                "stored": result.stored,
                "duplicates": result.duplicates,
                "held": result.held,
                "leads_created": result.leads_created,
                "leads_updated": result.leads_updated,
            },
            status=status.HTTP_200_OK,
        )


def _schema(summary: str, request=CallSerializer):
    return extend_schema(
        summary=summary,
        request=request,
        responses={200: IntakeResultSerializer, 400: BAD_CALLS},
        tags=["segment"],
    )


class SegmentIdentifyView(SegmentIntakeView):
    call_type = "identify"

    @_schema("identify: create or update the lead by traits.email or userId, with its traits")
    def post(self, request: Request) -> Response:
        return super().post(request)


class SegmentTrackView(SegmentIntakeView):
    call_type = "track"

    @_schema("track: record an activity (the event mappings give its kind; else “other”)")
    def post(self, request: Request) -> Response:
        return super().post(request)


class SegmentPageView(SegmentIntakeView):
    call_type = "page"

    @_schema("page: record a page view with its URL")
    def post(self, request: Request) -> Response:
        return super().post(request)


class SegmentBatchView(SegmentIntakeView):
    def calls(self, request: Request) -> list[intake.Call]:
        return validated_calls(with_batch_context(request.data))

    @_schema("batch: up to 1,000 calls, all or nothing", request=BatchInSerializer)
    def post(self, request: Request) -> Response:
        return super().post(request)


# --- The form endpoint --------------------------------------------------------------


class FormSubmissionSerializer(LeadSerializer):
    """A form's submission: who (the lead's fields) and what they sent."""

    submission_id = serializers.CharField(
        max_length=150, help_text="The form's own id for this submission: a resend counts once."
    )
    form = serializers.CharField(max_length=200, help_text='Which form, e.g. "Contact sales".')
    url = serializers.URLField(
        max_length=2000, required=False, default="", validators=[url_fits_index]
    )
    submitted_at = serializers.DateTimeField(required=False, default=None)
    hand_raise = serializers.CharField(
        max_length=50,
        required=False,
        allow_blank=True,
        validators=[activity_kind_validator],
        help_text="A hand-raise the form is, recorded as an activity of that kind "
        "(demo_request, say).",
    )
    answers = serializers.DictField(
        required=False,
        default=dict,
        validators=[storable_json],
        help_text="The form's answers, kept on the submission.",
    )

    class Meta(LeadSerializer.Meta):
        model = Lead
        fields = [
            "submission_id",
            "form",
            "url",
            "submitted_at",
            "hand_raise",
            "answers",
            "email",
            "external_id",
            "first_name",
            "last_name",
            "title",
            "seniority",
            "department",
            "phone",
            "country",
            "company_name",
            "source",
            "source_detail",
            "attributes",
            "do_not_contact",
        ]


FormResultSerializer = inline_serializer(
    "FormSubmissionResult",
    fields={
        "submission_id": serializers.CharField(),
        "lead": serializers.IntegerField(),
        "lead_created": serializers.BooleanField(),
        "duplicate": serializers.BooleanField(
            help_text="This submission was received before: nothing more was recorded."
        ),
    },
)


class FormSubmissionView(APIView):
    """One call per form submission: the lead is created or updated and the
    submission (and its hand-raise) recorded, in one transaction. 201 when
    recorded, 200 when the submission id was received before."""

    basename = "form-submission"
    queryset = Lead.objects.none()  # role permissions: adding leads

    @extend_schema(
        request=FormSubmissionSerializer,
        responses={201: FormResultSerializer, 200: FormResultSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = FormSubmissionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        submission_id = data.pop("submission_id")
        submitted = intake.submit_form(
            submission_id=submission_id,
            form=data.pop("form"),
            url=data.pop("url"),
            submitted_at=data.pop("submitted_at") or timezone.now(),
            hand_raise=data.pop("hand_raise", "") or None,
            answers=data.pop("answers"),
            # A form's key may write leads without reading them: it fills in blanks only.
            overwrite=not is_write_only(request, "lead"),
            **data,
        )
        return Response(
            {
                "submission_id": submission_id,
                "lead": submitted.lead.pk,
                "lead_created": submitted.lead_created,
                "duplicate": submitted.duplicate,
            },
            status=status.HTTP_200_OK if submitted.duplicate else status.HTTP_201_CREATED,
        )
