"""REST API of outcomes: the CRM pushes opportunities (created, updated, won,
lost); integrations, marketing ops and managers read them.

POST is an upsert keyed by the CRM's id, through ``record_opportunity``: 201
when the opportunity is new, 200 when it existed (changed or not). The lead
is named by exactly one of ``lead`` (id), ``lead_email`` or ``lead_external_id``.
"""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from feedback import services
from feedback.filters import OpportunityFilter
from feedback.models import Opportunity
from feedback.selectors import opportunities_visible_to
from handoff.api.change_feed import change_feed
from handoff.errors import BatchError
from handoff.validators import MAX_ID
from leads.models import Lead
from leads.services import LeadRef, resolve_lead_refs

LEAD_REFERENCES = ("lead", "lead_email", "lead_external_id")


@extend_schema_field(
    {"type": "string", "enum": Opportunity.Status.values}, component_name="OpportunityStatusEnum"
)
class OpportunityStatusField(serializers.ChoiceField):
    """open, won or lost. A schema component of its own, named here: other
    parts of the API have choice sets called "status" too."""

    def __init__(self, **kwargs):
        super().__init__(choices=Opportunity.Status.choices, **kwargs)


class OpportunitySerializer(serializers.ModelSerializer):
    status = OpportunityStatusField(read_only=True)
    lead_email = serializers.EmailField(source="lead.email", read_only=True)
    lead_external_id = serializers.CharField(source="lead.external_id", read_only=True)

    class Meta:
        model = Opportunity
        fields = [
            "id",
            "crm_id",
            "lead",
            "lead_email",
            "lead_external_id",
            "name",
            "amount",
            "currency",
            "status",
            "created_on",
            "closed_on",
            "updated_at",
        ]
        read_only_fields = fields


class OpportunityInSerializer(serializers.Serializer):
    """One opportunity as the CRM sends it. Shape only: the rules (close
    dates, which stage the lead may be in) are the service's."""

    crm_id = serializers.CharField(max_length=100)
    lead = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    lead_email = serializers.EmailField(required=False)
    lead_external_id = serializers.CharField(required=False, max_length=100)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    currency = serializers.CharField(min_length=3, max_length=3, required=False, default="USD")
    status = OpportunityStatusField(required=False, default=Opportunity.Status.OPEN)
    created_on = serializers.DateField()
    closed_on = serializers.DateField(required=False, allow_null=True, default=None)

    def validate(self, attrs):
        given = [name for name in LEAD_REFERENCES if attrs.get(name)]
        if len(given) != 1:
            raise serializers.ValidationError(
                {"lead": ["Name the lead with exactly one of lead, lead_email, lead_external_id."]}
            )
        return attrs

    def lead_ref(self) -> LeadRef:
        data = self.validated_data
        return LeadRef(
            lead_id=data.get("lead"),
            email=data.get("lead_email"),
            external_id=data.get("lead_external_id"),
        )


class OpportunityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Opportunities from the CRM, newest first. POST creates one, or updates
    the one with the same ``crm_id``; the lead's stage follows."""

    serializer_class = OpportunitySerializer
    filterset_class = OpportunityFilter

    def get_queryset(self):
        return opportunities_visible_to(self.request.user)

    changes = change_feed(OpportunitySerializer, "Opportunity")

    @extend_schema(
        request=OpportunityInSerializer,
        responses={201: OpportunitySerializer, 200: OpportunitySerializer},
    )
    def create(self, request, *args, **kwargs):
        serializer = OpportunityInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            [lead_id] = resolve_lead_refs([serializer.lead_ref()])
        except BatchError as error:
            raise serializers.ValidationError(error.errors[0]) from error
        data = {k: v for k, v in serializer.validated_data.items() if k not in LEAD_REFERENCES}
        result = services.record_opportunity(
            lead=Lead.objects.get(pk=lead_id), by=request.user, **data
        )
        return Response(
            OpportunitySerializer(result.opportunity).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )
