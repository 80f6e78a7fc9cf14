from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import HttpRequest
from django.shortcuts import render
from django.utils import timezone

from handoff import audit, roles, tokens
from handoff.errors import DomainError
from handoff.models import ApiToken, ApiTokenScope, AuditEntry, Notice
from handoff.views_helpers import show_domain_error

# The admin is the back office of Handoff, and says so.
admin.site.site_header = "Handoff"
admin.site.site_title = "Handoff admin"
admin.site.index_title = "Leads, scoring, routing and feedback"


class ReadOnlyAdmin(admin.ModelAdmin):
    """For rows that only services write, and history nobody may rewrite:
    readable in the admin, never added, changed or deleted there. Every app's
    read-only admin is this one class."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "who", "action", "content_type", "object_repr", "what_changed"]
    list_filter = ["action", "content_type"]
    search_fields = ["object_repr", "object_id", "note", "actor_name"]
    list_select_related = ["content_type"]
    date_hierarchy = "at"

    @admin.display(description="actor", ordering="actor_name")
    def who(self, entry: AuditEntry) -> str:
        return entry.who

    @admin.display(description="what changed")
    def what_changed(self, entry: AuditEntry) -> str:
        return audit.summary(entry)


class PeopleAdmin(UserAdmin):
    """Users, whom nobody deletes while they have history (the audit trail,
    tokens issued or revoked protect them): people who leave are deactivated."""

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        if protected:
            messages.error(
                request,
                "People with history in Handoff are not deleted: the audit trail, stage "
                "history, merges, touches and API tokens name them. Deactivate the account "
                "instead (untick Active on its page): it can no longer sign in, and its "
                "history stays whole.",
            )
        return deleted, counts, perms_needed, protected


admin.site.unregister(User)
admin.site.register(User, PeopleAdmin)


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    """Notices and where their email and chat message stand: written only by
    handoff.notices, read here to see why someone was not told."""

    list_display = ["created_at", "user", "kind", "text", "read_at", "email", "chat"]
    list_filter = ["kind", "email", "chat", ("read_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user"]
    search_fields = ["text", "user__username"]
    fields = (
        "user",
        "kind",
        "text",
        "link",
        "created_at",
        "read_at",
        "in_app",
        "email",
        "chat",
        "attempts",
        "next_attempt_at",
        "last_error",
    )
    readonly_fields = fields


class IssueTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text='Which integration: "Web forms", "Web tracking", "CRM"…'
    )
    scopes = forms.MultipleChoiceField(
        choices=ApiTokenScope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only what the integration needs: web tracking sends activity events only.",
    )
    user = forms.ModelChoiceField(
        queryset=User.objects.filter(groups__name=roles.INTEGRATION).order_by("username"),
        required=False,
        label="Integration account",
        help_text="Leave empty to make a new integration account named after the token.",
    )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Issue tokens (the key is shown once), list them, revoke them. Keys are
    never edited; a token is revoked rather than deleted, so the audit trail
    keeps what it refers to."""

    list_display = [
        "name",
        "key",
        "user",
        "scope_list",
        "created_by",
        "created_at",
        "last_used_at",
        "status",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user", "created_by", "revoked_by"]
    readonly_fields = (
        "name",
        "key",
        "user",
        "scope_list",
        "created_by",
        "created_at",
        "last_used_at",
        "status",
    )
    fields = readonly_fields
    actions = ["revoke"]

    @admin.display(description="key")
    def key(self, token: ApiToken) -> str:
        return f"{token.prefix}…"

    @admin.display(description="scopes")
    def scope_list(self, token: ApiToken) -> str:
        return ", ".join(token.scopes)

    @admin.display(description="status")
    def status(self, token: ApiToken) -> str:
        if token.revoked_at is None:
            return "active"
        when = timezone.localtime(token.revoked_at).strftime("%Y-%m-%d %H:%M")
        return f"revoked {when} by {token.revoked_by or 'the system'}"

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("handoff.revoke_apitoken")

    @admin.action(description="Revoke the selected tokens", permissions=["revoke"])
    def revoke(self, request, queryset):
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True):
            try:
                tokens.revoke_token(token=token, by=request.user)
            except DomainError:
                continue  # revoked by someone else meanwhile
            revoked += 1
        self.message_user(
            request,
            f"{revoked} token(s) revoked: their next request gets 401."
            if revoked
            else "The selected tokens were already revoked.",
            messages.SUCCESS if revoked else messages.WARNING,
        )

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = IssueTokenForm(request.POST or None)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Issue an API token",
            "form": form,
        }
        if request.method == "POST" and form.is_valid():
            try:
                issued = tokens.issue_token(by=request.user, **form.cleaned_data)
            except DomainError as error:
                show_domain_error(form, error)
            else:
                # The only time the key exists outside the integration: this page,
                # which no cache may keep.
                response = render(
                    request,
                    "admin/handoff/apitoken/issued.html",
                    {
                        **context,
                        "title": "API token issued",
                        "token": issued.token,
                        "key": issued.key,
                    },
                )
                response["Cache-Control"] = "no-store"
                return response
        return render(request, "admin/handoff/apitoken/issue.html", context)


from handoff.webhooks import admin as webhooks_admin  # noqa: E402,F401  (registers its model admins)
