"""Admin for account (ABM) scores and the buying committee of a version.

Imported by scoring.admin, which adds ``CommitteeRoleInline`` to the scoring
model admin's inlines.
"""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from handoff.admin import ReadOnlyAdmin
from scoring.models import AccountScore, CommitteeRole, ScoringModel


class CommitteeRoleInline(admin.TabularInline):
    """The roles of a version's buying committee. Only a draft's roles change,
    like its rules: a version that was submitted or published is a record."""

    model = CommitteeRole
    extra = 0
    fields = ["position", "name", "title_pattern", "department_pattern"]
    ordering = ["position", "pk"]

    def _editable(self, obj: ScoringModel | None) -> bool:
        return obj is None or obj.is_editable

    def has_add_permission(self, request: HttpRequest, obj: ScoringModel | None = None) -> bool:
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: ScoringModel | None = None) -> bool:
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: ScoringModel | None = None) -> bool:
        return self._editable(obj) and super().has_delete_permission(request, obj)


@admin.register(AccountScore)
class AccountScoreAdmin(ReadOnlyAdmin):
    """Read-only: account scores are computed by the scoring services."""

    list_display = [
        "account",
        "mqa",
        "fit",
        "engagement",
        "total",
        "engaged_contacts",
        "coverage_percent",
        "version",
        "scored_at",
    ]
    list_filter = ["qualified", "disqualified", "model"]
    list_select_related = ["account", "model"]
    search_fields = ["account__name", "account__domain"]
    fields = [
        "account",
        "model",
        "qualified",
        "disqualified",
        "fit",
        "engagement",
        "total",
        "engaged_contacts",
        "coverage",
        "roles_filled",
        "explanation",
        "scored_at",
    ]
    readonly_fields = fields
    ordering = ["-qualified", "-total", "account"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccountScore]:
        return super().get_queryset(request).select_related("account", "model")

    @admin.display(boolean=True, description="MQA", ordering="qualified")
    def mqa(self, obj: AccountScore) -> bool:
        return obj.qualified

    @admin.display(description="committee", ordering="coverage")
    def coverage_percent(self, obj: AccountScore) -> str:
        return f"{obj.coverage}%"

    @admin.display(description="version", ordering="model__version")
    def version(self, obj: AccountScore) -> str:
        return f"v{obj.model.version}"
