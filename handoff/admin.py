from django.contrib import admin

from handoff.models import AuditEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    """For rows that only services write, and history nobody may rewrite:
    readable in the admin, never added, changed or deleted there."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "action", "content_type", "object_repr"]
    list_filter = ["action", "content_type"]
    search_fields = ["object_repr", "object_id", "note"]
    list_select_related = ["actor", "content_type"]
    date_hierarchy = "at"
