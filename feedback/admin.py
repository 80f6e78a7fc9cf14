"""Feedback in the admin: opportunities (corrected by marketing ops, saved
through the same service as the CRM's pushes) and SQL qualifications (read
only: SDRs record them on their lead page)."""

from django import forms
from django.contrib import admin

from feedback import (
    admin_recalibration,  # noqa: F401  (registers RecalibrationAdmin)
    services,
)
from feedback.models import Opportunity, SQLQualification
from handoff.admin import ReadOnlyAdmin
from handoff.errors import DomainError
from handoff.views_helpers import show_domain_error

SERVICE_FIELDS = ("crm_id", "lead", "amount", "status", "created_on", "closed_on", "currency")


class OpportunityAdminForm(forms.ModelForm):
    class Meta:
        model = Opportunity
        fields = [
            "crm_id",
            "lead",
            "name",
            "amount",
            "currency",
            "status",
            "created_on",
            "closed_on",
        ]

    def clean(self):
        """The service's refusals, on the fields they name (it writes nothing here)."""
        cleaned = super().clean()
        values = {
            name: cleaned.get(name, getattr(self.instance, name, None)) for name in SERVICE_FIELDS
        }
        if self.errors or any(
            values[name] is None for name in SERVICE_FIELDS if name != "closed_on"
        ):
            return cleaned
        try:
            services.check_opportunity(**values)
        except DomainError as error:
            show_domain_error(self, error)
        return cleaned


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    form = OpportunityAdminForm
    list_display = [
        "crm_id",
        "name",
        "lead",
        "amount",
        "currency",
        "status",
        "created_on",
        "closed_on",
    ]
    list_filter = ["status"]
    list_select_related = ["lead"]
    search_fields = ["crm_id", "name", "lead__email"]
    date_hierarchy = "created_on"
    # A select of every lead would be a million options.
    raw_id_fields = ["lead"]
    readonly_fields = ["updated_at"]

    def get_readonly_fields(self, request, obj=None):
        # The CRM's id names the opportunity, and an opportunity keeps its lead.
        return [*self.readonly_fields, "crm_id", "lead"] if obj else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False  # the CRM's history is kept; close an opportunity as lost instead

    def save_model(self, request, obj, form, change):
        """Through record_opportunity: the lead's stage follows, the change is audited."""
        result = services.record_opportunity(
            crm_id=obj.crm_id,
            lead=obj.lead,
            amount=obj.amount,
            status=obj.status,
            created_on=obj.created_on,
            closed_on=obj.closed_on,
            name=obj.name,
            currency=obj.currency,
            by=request.user,
        )
        obj.pk = result.opportunity.pk
        obj.updated_at = result.opportunity.updated_at


@admin.register(SQLQualification)
class SQLQualificationAdmin(ReadOnlyAdmin):
    list_display = ["lead", "qualified_by", "qualified_at"]
    list_select_related = ["lead", "qualified_by"]
    search_fields = ["lead__email"]
    date_hierarchy = "qualified_at"
    fields = ["lead", "budget", "authority", "need", "timeline", "qualified_by", "qualified_at"]
    readonly_fields = fields
