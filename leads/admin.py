from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse

from handoff.admin import ReadOnlyAdmin
from handoff.errors import DomainError
from leads import importing, services
from leads.importing.forms import ImportLeadsForm
from leads.models import Account, Activity, ImportJob, Lead, LeadMerge, LeadSource, StageChange


@admin.register(LeadSource)
class LeadSourceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "mql_eligible"]
    list_editable = ["mql_eligible"]


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "domain",
        "industry",
        "employee_count",
        "country",
        "owner",
        "is_target_account",
    ]
    list_filter = ["is_target_account", "industry", "country"]
    search_fields = ["name", "domain"]
    list_select_related = ["owner"]
    autocomplete_fields = ["owner"]

    def save_model(self, request, obj: Account, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and form.has_changed():
            services.announce_account_change(account=obj)


class ActivityInline(admin.TabularInline):
    model = Activity
    fields = ["occurred_at", "kind", "url", "source_system", "external_id"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-occurred_at"]
    show_change_link = True


class StageChangeInline(admin.TabularInline):
    model = StageChange
    fields = ["changed_at", "from_stage", "to_stage", "who", "reason"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False


class MergeLeadsForm(forms.Form):
    survivor = forms.ModelChoiceField(
        queryset=Lead.objects.none(),
        widget=forms.RadioSelect,
        help_text="The lead that stays; the other is folded into it and deleted.",
    )


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "full_name",
        "company_name",
        "source",
        "stage",
        "owner",
        "created_at",
    ]
    list_filter = ["stage", "source", "do_not_contact", "legal_hold", "country"]
    search_fields = ["email", "external_id", "first_name", "last_name", "company_name"]
    list_select_related = ["source", "owner"]
    autocomplete_fields = ["account", "owner"]
    # The stage is written by the lifecycle service only, so it is never edited here.
    readonly_fields = ["stage", "created_at", "updated_at"]
    inlines = [StageChangeInline, ActivityInline]
    actions = ["merge_selected"]

    @admin.action(description="Merge the two selected leads", permissions=["change"])
    def merge_selected(self, request, queryset):
        leads = list(queryset[:3])
        if len(leads) != 2:
            self.message_user(request, "Select exactly two leads to merge.", messages.ERROR)
            return None
        ids = ",".join(str(lead.pk) for lead in leads)
        return redirect(f"{reverse('admin:leads_lead_merge')}?ids={ids}")

    def get_urls(self):
        return [
            path("merge/", self.admin_site.admin_view(self.merge_view), name="leads_lead_merge"),
            *super().get_urls(),
        ]

    def merge_view(self, request):
        if not self.has_change_permission(request) or not self.has_delete_permission(request):
            raise PermissionDenied
        ids = [int(i) for i in request.GET.get("ids", "").split(",") if i.isdigit()][:2]
        candidates = Lead.objects.filter(pk__in=ids).select_related("source", "account")
        form = MergeLeadsForm(request.POST or None)
        form.fields["survivor"].queryset = candidates
        if len(candidates) != 2:
            self.message_user(request, "Those two leads no longer exist.", messages.ERROR)
            return redirect("admin:leads_lead_changelist")
        if request.method == "POST" and form.is_valid():
            survivor = form.cleaned_data["survivor"]
            duplicate = next(lead for lead in candidates if lead.pk != survivor.pk)
            try:
                merge = services.merge_leads(
                    survivor=survivor, duplicate=duplicate, by=request.user
                )
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"Merged #{merge.merged_lead_id} into {survivor}: "
                    f"{merge.activities_moved} activities moved.",
                    messages.SUCCESS,
                )
                return redirect("admin:leads_lead_change", survivor.pk)
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "candidates": candidates,
            "title": "Merge two leads",
            "opts": self.model._meta,
        }
        return render(request, "admin/leads/lead/merge.html", context)


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "kind", "lead", "source_system", "external_id"]
    list_filter = ["kind", "source_system"]
    search_fields = ["external_id", "lead__email"]
    list_select_related = ["lead"]
    raw_id_fields = ["lead"]
    date_hierarchy = "occurred_at"


@admin.register(StageChange)
class StageChangeAdmin(ReadOnlyAdmin):
    list_display = ["changed_at", "lead", "from_stage", "to_stage", "who", "reason"]
    list_filter = ["to_stage", "from_stage"]
    list_select_related = ["lead"]


@admin.register(LeadMerge)
class LeadMergeAdmin(ReadOnlyAdmin):
    list_display = [
        "merged_at",
        "survivor",
        "merged_lead_id",
        "merged_email",
        "activities_moved",
        "who",
    ]
    list_select_related = ["survivor"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Lead imports: upload a CSV with a mapping, then watch the job run.

    Jobs are written by leads.importing only, so this admin is read-only; its
    "add" is the upload page.
    """

    list_display = [
        "__str__",
        "status",
        "rows_total",
        "created",
        "updated",
        "skipped",
        "created_by",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status"]
    list_select_related = ["created_by"]
    fields = [
        "file_name",
        "mapping_description",
        "skip_invalid",
        "status",
        "rows_total",
        "rows_processed",
        "created",
        "updated",
        "skipped",
        "created_by",
        "created_at",
        "finished_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        # The error list can hold a thousand entries: the list page needs none.
        return super().get_queryset(request).defer("errors")

    @admin.display(description="mapping")
    def mapping_description(self, job):
        return job.mapping.get("description", "") or job.mapping.get("source", "")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="leads_importjob_import",
            ),
            path(
                "<int:object_id>/progress/",
                self.admin_site.admin_view(self.progress_view),
                name="leads_importjob_progress",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:leads_importjob_import")

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportLeadsForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            job = importing.start_import(
                file=form.cleaned_data["file"],
                mapping=form.cleaned_data["mapping"],
                skip_invalid=form.cleaned_data["skip_invalid"],
                by=request.user,
            )
            return redirect("admin:leads_importjob_change", job.pk)
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": "Import leads",
            "opts": self.model._meta,
        }
        return render(request, "admin/leads/importjob/import.html", context)

    def progress_view(self, request, object_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        job = get_object_or_404(ImportJob, pk=object_id)
        return render(request, "admin/leads/importjob/change_form.html#progress", {"job": job})
