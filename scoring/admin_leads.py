"""The leads list as people look for leads: with each lead's score and grade.

The lead admin lives in leads, which knows nothing of scores; scoring sits
above it, so it registers the leads list again with the score's columns and
filters (imported by scoring.admin).
"""

from django.contrib import admin

from leads.admin import LeadAdmin
from leads.models import Lead


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
