import json
import uuid
from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from handoff.admin import ReadOnlyAdmin
from handoff.errors import DomainError
from leads import duplicates, importing, services
from leads.importing import wizard
from leads.importing.forms import ImportLeadsForm
from leads.models import (
    Account,
    AccountDomain,
    Activity,
    DuplicateCandidate,
    EventMapping,
    HeldEvent,
    Identity,
    ImportJob,
    ImportMapping,
    Lead,
    LeadMerge,
    LeadSource,
    LeadTouch,
    StageChange,
)

# The wizard keeps the uploaded file in storage and its state in the session
# between its steps: upload -> map the columns -> preview -> import.
WIZARD_SESSION_KEY = "lead_import_wizard"
PREVIEW_ERRORS_SHOWN = 200


@admin.register(LeadSource)
class LeadSourceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "mql_eligible"]
    list_editable = ["mql_eligible"]


class AccountDomainInline(admin.TabularInline):
    model = AccountDomain
    extra = 1
    verbose_name = "other domain"
    verbose_name_plural = "other domains (leads from these and their subdomains join the account)"


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
    search_fields = ["name", "domain", "other_domains__domain"]
    list_select_related = ["owner"]
    autocomplete_fields = ["owner"]
    inlines = [AccountDomainInline]

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


class LeadTouchInline(admin.TabularInline):
    """Every source the lead arrived from, first seen when: any eligible one
    may make it an MQL (the first eligible is the one the lead page names)."""

    model = LeadTouch
    extra = 0
    can_delete = False
    fields = ["source", "eligible", "first_seen_at"]
    readonly_fields = fields
    ordering = ["first_seen_at", "id"]
    verbose_name = "touch (a source it arrived from)"
    verbose_name_plural = "touches (sources it arrived from)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("source")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="source marked MQL-eligible", boolean=True)
    def eligible(self, touch: LeadTouch) -> bool:
        return touch.source.mql_eligible


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
    readonly_fields = ["stage", "account_matched_by", "created_at", "updated_at"]
    exclude = ["account_match", "account_matched_domain"]
    inlines = [StageChangeInline, LeadTouchInline, ActivityInline]
    actions = ["merge_selected"]

    @admin.display(description="account matched by")
    def account_matched_by(self, lead: Lead) -> str:
        return lead.account_match_text or "—"

    def save_model(self, request, obj: Lead, form, change: bool) -> None:
        if "account" in form.changed_data:
            # Chosen by hand: no domain matched it.
            obj.account_match, obj.account_matched_domain = "", ""
        super().save_model(request, obj, form, change)

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
                    f"{merge.activities_moved:,} "
                    f"{'activity' if merge.activities_moved == 1 else 'activities'} moved, "
                    "with its assignments, decisions and outcomes.",
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


class DuplicateStatusFilter(admin.SimpleListFilter):
    """Pairs still to decide by default; the dismissed ones on request."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("dismissed", "Dismissed")]

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "To decide",
        }
        yield from list(super().choices(changelist))[1:]

    def queryset(self, request, queryset):
        return queryset.filter(dismissed_at__isnull=self.value() != "dismissed")


@admin.register(DuplicateCandidate)
class DuplicateCandidateAdmin(ReadOnlyAdmin):
    """Likely duplicates the hourly search found: merge a pair (choosing the
    lead that stays) or dismiss it (it is never proposed again)."""

    list_display = ["found_at", "lead_one", "lead_two", "reason", "matched_on", "merge_link"]
    list_filter = [DuplicateStatusFilter, "reason"]
    list_select_related = ["first", "second"]
    search_fields = ["matched_on", "first__email", "second__email"]
    actions = ["dismiss_selected"]

    @staticmethod
    def _lead(lead: Lead) -> str:
        return format_html(
            '<a href="{}">{}</a><br>{}',
            reverse("admin:leads_lead_change", args=[lead.pk]),
            lead,
            f"{lead.full_name or 'no name'}, {lead.get_stage_display()}",
        )

    @admin.display(description="one lead")
    def lead_one(self, pair: DuplicateCandidate) -> str:
        return self._lead(pair.first)

    @admin.display(description="the other")
    def lead_two(self, pair: DuplicateCandidate) -> str:
        return self._lead(pair.second)

    @admin.display(description="")
    def merge_link(self, pair: DuplicateCandidate) -> str:
        if pair.dismissed_at is not None:
            return f"dismissed by {pair.dismissed_by_name or 'system'}"
        return format_html(
            '<a class="button" href="{}?ids={},{}">Merge…</a>',
            reverse("admin:leads_lead_merge"),
            pair.first_id,
            pair.second_id,
        )

    def has_dismiss_permission(self, request) -> bool:
        return request.user.has_perm("leads.change_duplicatecandidate")

    @admin.action(description="Not duplicates: dismiss the selected pairs", permissions=["dismiss"])
    def dismiss_selected(self, request, queryset):
        count = duplicates.dismiss_candidates(
            candidate_ids=queryset.values_list("pk", flat=True), by=request.user
        )
        noun = "pair" if count == 1 else "pairs"
        self.message_user(
            request,
            f"Dismissed {count:,} {noun}; they will not be proposed again.",
            messages.SUCCESS,
        )


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "kind", "event_name", "lead", "source_system", "external_id"]
    list_filter = ["kind", "source_system"]
    search_fields = ["external_id", "event_name", "lead__email"]
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
                "import/map/",
                self.admin_site.admin_view(self.map_view),
                name="leads_importjob_map",
            ),
            path(
                "import/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="leads_importjob_preview",
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
        """Step 1: the file (and a mapping to start from)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportLeadsForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            name = Path(upload.name).name
            stored = default_storage.save(f"imports/wizard/{uuid.uuid4().hex}/{name}", upload)
            _discard_wizard(request)
            request.session[WIZARD_SESSION_KEY] = {
                "path": stored,
                "name": name,
                "start_from": form.cleaned_data["start_from"],
            }
            return redirect("admin:leads_importjob_map")
        return self._wizard_page(request, "import.html", "Import leads: the file", form=form)

    def map_view(self, request):
        """Step 2: where each column goes, one drop-down per column."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        state = request.session.get(WIZARD_SESSION_KEY)
        if not state:
            return redirect("admin:leads_importjob_import")
        try:
            with default_storage.open(state["path"], "rb") as file:
                sample = wizard.sample_file(file)
        except (importing.ImportRefused, FileNotFoundError) as error:
            message = getattr(error, "message", "The uploaded file is gone: upload it again.")
            self.message_user(request, message, messages.ERROR)
            return redirect("admin:leads_importjob_import")
        start = state.get("mapping") or state.get("start_from")
        columns, options = wizard.initial_answers(sample, start)
        if start is not None and "skip_invalid" in state:
            options["skip_invalid"] = state["skip_invalid"]
        formset = wizard.ColumnFormSet(request.POST or None, initial=columns, prefix="column")
        options_form = wizard.OptionsForm(request.POST or None, initial=options)
        problems: list[str] = []
        if request.method == "POST" and formset.is_valid() and options_form.is_valid():
            answers = [form.cleaned_data for form in formset.forms]
            if [answer["column"] for answer in answers] != sample.header:
                return redirect("admin:leads_importjob_map")  # another file since: start over
            mapping = wizard.build_mapping(
                columns=answers,
                options=options_form.cleaned_data,
                description=f"Mapped in the import wizard for {state['name']}",
            )
            try:
                importing.parse_mapping(mapping)
                save_as = options_form.cleaned_data["save_as"].strip()
                if save_as:
                    importing.save_import_mapping(name=save_as, mapping=mapping, by=request.user)
            except importing.MappingError as error:
                problems = error.problems
            else:
                state["mapping"] = mapping
                state["skip_invalid"] = options_form.cleaned_data["skip_invalid"]
                request.session[WIZARD_SESSION_KEY] = state
                return redirect("admin:leads_importjob_preview")
        rows = [
            {"form": form, "values": sample.values[form.initial["column"]]}
            for form in formset.forms
        ]
        return self._wizard_page(
            request,
            "import_map.html",
            "Import leads: map the columns",
            sample=sample,
            formset=formset,
            rows=rows,
            options_form=options_form,
            problems=problems,
            file_name=state["name"],
        )

    def preview_view(self, request):
        """Step 3: what would be created and updated, and the bad rows; then import."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        state = request.session.get(WIZARD_SESSION_KEY)
        if not state or not state.get("mapping"):
            return redirect("admin:leads_importjob_import")
        mapping = importing.parse_mapping(state["mapping"])
        if request.method == "POST":
            with default_storage.open(state["path"], "rb") as stored:
                job = importing.start_import(
                    file=File(stored, name=state["name"]),
                    mapping=state["mapping"],
                    skip_invalid=state["skip_invalid"],
                    by=request.user,
                )
            _discard_wizard(request)
            return redirect("admin:leads_importjob_change", job.pk)
        refusal = ""
        preview = None
        try:
            with default_storage.open(state["path"], "rb") as file:
                preview = importing.preview_import(
                    file=file, mapping=mapping, file_name=state["name"]
                )
        except importing.ImportRefused as refused:
            refusal = refused.message
        return self._wizard_page(
            request,
            "import_preview.html",
            "Import leads: preview",
            preview=preview,
            refusal=refusal,
            errors_shown=preview.errors[:PREVIEW_ERRORS_SHOWN] if preview else (),
            file_name=state["name"],
            skip_invalid=state["skip_invalid"],
        )

    def _wizard_page(self, request, template: str, title: str, **context):
        context = {
            **self.admin_site.each_context(request),
            **context,
            "title": title,
            "opts": self.model._meta,
        }
        return render(request, f"admin/leads/importjob/{template}", context)

    def progress_view(self, request, object_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        job = get_object_or_404(ImportJob, pk=object_id)
        return render(request, "admin/leads/importjob/change_form.html#progress", {"job": job})


def _discard_wizard(request) -> None:
    """Forget an earlier wizard of this session, and delete the file it kept."""
    state = request.session.pop(WIZARD_SESSION_KEY, None)
    if state and default_storage.exists(state["path"]):
        default_storage.delete(state["path"])


@admin.register(ImportMapping)
class ImportMappingAdmin(admin.ModelAdmin):
    """Mappings saved in the import wizard: renamed, deleted or exported as
    JSON here; made (and changed) in the wizard."""

    list_display = ["name", "description", "created_by", "updated_at", "export_link"]
    list_select_related = ["created_by"]
    fields = ["name", "description", "mapping_json", "created_by", "updated_at"]
    readonly_fields = ["description", "mapping_json", "created_by", "updated_at"]
    search_fields = ["name"]

    def has_add_permission(self, request):
        return False  # made in the import wizard

    @admin.display(description="description")
    def description(self, saved: ImportMapping) -> str:
        return saved.mapping.get("description", "")

    @admin.display(description="mapping (JSON)")
    def mapping_json(self, saved: ImportMapping) -> str:
        return format_html("<pre>{}</pre>", json.dumps(saved.mapping, indent=2))

    @admin.display(description="export")
    def export_link(self, saved: ImportMapping) -> str:
        url = reverse("admin:leads_importmapping_export", args=[saved.pk])
        return format_html('<a href="{}">Download JSON</a>', url)

    def get_urls(self):
        return [
            path(
                "<int:object_id>/export/",
                self.admin_site.admin_view(self.export_view),
                name="leads_importmapping_export",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request, object_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        saved = get_object_or_404(ImportMapping, pk=object_id)
        response = HttpResponse(
            json.dumps(saved.mapping, indent=2, ensure_ascii=False),
            content_type="application/json",
        )
        slug = "".join(c if c.isalnum() else "-" for c in saved.name.lower()).strip("-")
        response["Content-Disposition"] = f'attachment; filename="{slug or "mapping"}.json"'
        return response


@admin.register(EventMapping)
class EventMappingAdmin(admin.ModelAdmin):
    """Which activity kind a CDP's track event is. An event no row names is
    recorded as "other", with its name: the list of those below says which
    names arrive unmapped, most frequent first."""

    list_display = ["event_name", "kind"]
    search_fields = ["event_name", "kind"]
    change_list_template = "admin/leads/eventmapping/change_list.html"

    def changelist_view(self, request, extra_context=None):
        from leads.selectors import unmapped_event_names

        extra_context = {**(extra_context or {}), "unmapped": unmapped_event_names(limit=20)}
        return super().changelist_view(request, extra_context=extra_context)


@admin.register(Identity)
class IdentityAdmin(ReadOnlyAdmin):
    """The ids a CDP knows people by, linked to leads by identify calls."""

    list_display = ["value", "kind", "lead", "created_at"]
    list_filter = ["kind"]
    search_fields = ["value", "lead__email"]
    list_select_related = ["lead"]


@admin.register(HeldEvent)
class HeldEventAdmin(ReadOnlyAdmin):
    """Events of ids no lead has yet: recorded on the lead when an identify
    links the id."""

    list_display = ["occurred_at", "kind", "event_name", "anonymous_id", "user_id", "url"]
    list_filter = ["kind"]
    search_fields = ["anonymous_id", "user_id", "event_name", "message_id"]
    date_hierarchy = "occurred_at"
