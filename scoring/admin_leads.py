"""The leads list as people look for leads: with each lead's score and grade.

The lead admin lives in leads, which knows nothing of scores; scoring sits
above it, so it registers the leads list again with the score's columns and
filters (imported by scoring.admin).
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from handoff.errors import DomainError
from handoff.roles import MARKETING_OPS, SALES_MANAGER, has_role
from leads.admin import LeadAdmin
from leads.models import Lead
from scoring.services import send_to_sales
from scoring.services.by_hand import STAGES_THAT_CAN_BE_SENT


class SendToSalesForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why this lead goes to sales whatever its score; the SDR reads it.",
    )


class GradeFilter(admin.SimpleListFilter):
    title = "grade"
    parameter_name = "grade"

    def lookups(self, request, model_admin):
        return [("A", "A"), ("B", "B"), ("C", "C"), ("D", "D"), ("none", "Not scored yet")]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(score__isnull=True)
        if self.value():
            return queryset.filter(score__grade=self.value())
        return queryset


class ScoredLeadAdmin(LeadAdmin):
    list_display = [
        "__str__",
        "full_name",
        "company_name",
        "score_total",
        "score_grade",
        "stage",
        "owner",
        "source",
        "created_at",
    ]
    list_filter = [GradeFilter, "stage", "owner", "source", "do_not_contact", "country"]
    list_select_related = ["source", "owner", "score"]

    readonly_fields = [*LeadAdmin.readonly_fields, "send_to_sales_link"]

    @admin.display(description="send to sales")
    def send_to_sales_link(self, lead: Lead) -> str:
        if lead.pk is None or lead.stage not in STAGES_THAT_CAN_BE_SENT:
            return "—"
        return format_html(
            '<a class="button" href="{}">Send to sales…</a>',
            reverse("admin:leads_lead_send_to_sales", args=[lead.pk]),
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/send-to-sales/",
                self.admin_site.admin_view(self.send_to_sales_view),
                name="leads_lead_send_to_sales",
            ),
            *super().get_urls(),
        ]

    def send_to_sales_view(self, request, pk: int):
        """Marketing ops and sales managers send a lead to sales with a reason."""
        if not has_role(request.user, MARKETING_OPS, SALES_MANAGER):
            raise PermissionDenied
        lead = get_object_or_404(Lead.objects.select_related("source"), pk=pk)
        form = SendToSalesForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                send_to_sales(lead=lead, by=request.user, reason=form.cleaned_data["reason"])
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"{lead} is an MQL now and goes to sales like any other.",
                    messages.SUCCESS,
                )
            return redirect("admin:leads_lead_change", lead.pk)
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "lead": lead,
            "title": f"Send {lead} to sales",
            "opts": self.model._meta,
        }
        return render(request, "admin/scoring/lead/send_to_sales.html", context)

    @admin.display(description="score", ordering="score__total")
    def score_total(self, lead: Lead) -> str:
        score = getattr(lead, "score", None)
        return f"{score.total:,.0f}" if score is not None else "—"

    @admin.display(description="grade", ordering="score__grade")
    def score_grade(self, lead: Lead) -> str:
        score = getattr(lead, "score", None)
        return score.grade if score is not None else "—"


admin.site.unregister(Lead)
admin.site.register(Lead, ScoredLeadAdmin)
