"""Scoring in the admin: marketing ops edit drafts, managers approve them.

A version's page is editable only while the version is a draft; the buttons at
its top move it through its life (clone, submit, return to draft, approve,
publish) and open the impact preview. Every write goes through
scoring.services: this module only shows pages, validates forms and turns
domain errors into messages.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from handoff import audit
from handoff.admin import ReadOnlyAdmin
from handoff.errors import DomainError
from handoff.models import AuditEntry
from scoring import (
    admin_leads,  # noqa: F401  (the leads list, with scores)
    selectors,
    services,
)
from scoring.admin_accounts import CommitteeRoleInline
from scoring.fields import FIELDS
from scoring.models import (
    CommitteeRole,
    HandRaiseKind,
    HeldHandRaise,
    JobStatus,
    Layer,
    LeadScore,
    ModelStatus,
    MQLSnapshot,
    Operator,
    RescoreJob,
    Rule,
    ScoringModel,
)
from scoring.preview import preview_impact
from scoring.rule_forms import LIST_OPERATORS, RuleForm
from scoring.sentences import rule_sentence
from scoring.services import rules as rule_services


def _editable(obj: ScoringModel | None) -> bool:
    return obj is not None and obj.is_editable


# --- Rules, one inline per layer ---------------------------------------------------


class RuleFormSet(BaseInlineFormSet):
    """The rules of one layer. The layer is the inline's, not a column of the
    form: it is set on every form's rule before validation reads it."""

    layer: str = ""

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        form.instance.layer = self.layer
        return form


def _picks(field: str, operator: str) -> str:
    """The most common values of the rule's field, as buttons that add one to
    the row's value (scoring/rule_values.js): ops pick countries, industries
    and sources from their data and may still type a new one."""
    if operator not in (Operator.EQUALS, *LIST_OPERATORS):
        return ""
    values = selectors.common_values(field=field)
    if not values:
        return ""
    buttons = format_html_join(
        " ",
        '<button type="button" class="rule-pick" data-value="{}" title="{} lead{}">{}</button>',
        ((value, f"{n:,}", "" if n == 1 else "s", value) for value, n in values),
    )
    return format_html('<span class="rule-picks">In your data: {}</span>', buttons)


def _live_text(rule: Rule, matches: int | None) -> str:
    count = (
        ""
        if matches is None
        else format_html(
            '<span class="rule-matches">matches {} lead{} now</span>',
            f"{matches:,}",
            "" if matches == 1 else "s",
        )
    )
    return format_html(
        '<span class="rule-sentence">{}</span> {}{}',
        rule_sentence(rule),
        count,
        # With the count, from the live view: the page itself stays one query per table.
        "" if matches is None else _picks(rule.field, rule.operator),
    )


# Every input of a rule row asks for the row's sentence and match count when
# it changes; the answer goes to the row's last cell (the "reads as" column).
LIVE_ATTRS = {
    "hx-post": "../rule-live/",
    "hx-trigger": "change, keyup changed delay:600ms",
    "hx-target": "next .rule-live",
    "hx-swap": "innerHTML",
    # A newer edit of the row cancels the answer to an older one, so a slow
    # answer never lands last with what the row no longer says.
    "hx-sync": "closest tr:replace",
}


class RuleInline(admin.TabularInline):
    model = Rule
    form = RuleForm
    formset = RuleFormSet
    layer: str = ""
    extra = 0
    ordering = ["position", "id"]
    formfield_overrides = {
        models.JSONField: {"widget": forms.TextInput(attrs={"size": 18})},
    }

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "field":
            # Suggests the registered fields (the list is in the page), still
            # accepting attributes.<name> for imported columns.
            kwargs["widget"] = forms.TextInput(attrs={"list": "rule-fields", "size": 20})
        elif db_field.name in ("name", "url_pattern"):
            kwargs["widget"] = forms.TextInput(attrs={"size": 20})
        elif db_field.name == "description":
            kwargs["widget"] = forms.TextInput(
                attrs={"size": 24, "placeholder": "with a pattern: what it matches"}
            )
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and db_field.name in LIVE_FIELDS:
            self._make_live(formfield)
        return formfield

    def _make_live(self, formfield: forms.Field) -> None:
        formfield.widget.attrs.update({**LIVE_ATTRS, "hx-vals": f'{{"layer": "{self.layer}"}}'})

    def get_fields(self, request, obj=None):
        return [*super().get_fields(request, obj), "reads_as"]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "reads_as"]

    @admin.display(description="reads as")
    def reads_as(self, rule: Rule) -> str:
        if rule.pk is None:
            return mark_safe('<div class="rule-live"></div>')
        # The count comes with the first request after the page shows.
        return format_html(
            '<div class="rule-live" hx-post="../rule-live/" hx-trigger="load" '
            'hx-sync="closest tr:replace" hx-vals=\'{{"rule": "{}"}}\'>{}</div>',
            rule.pk,
            _live_text(rule, None),
        )

    def get_queryset(self, request):
        return super().get_queryset(request).filter(layer=self.layer)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)  # a new class on every call
        formset.layer = self.layer
        # The form's own fields (the value typed in words, the activity kinds)
        # are not made from the model's, so formfield_for_dbfield never sees
        # them: each inline makes its own copy live.
        for name in RuleForm.declared_fields:
            if name in formset.form.base_fields:
                live = copy.deepcopy(formset.form.base_fields[name])
                self._make_live(live)
                formset.form.base_fields[name] = live
        return formset

    # Only a draft's rules change; a submitted or live version's are shown read-only.
    def has_add_permission(self, request, obj):
        return _editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return _editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _editable(obj) and super().has_delete_permission(request, obj)


# Every field the rule form edits, but its place in the list, changes what the
# rule reads as and matches: editing one refreshes the row's sentence and count.
LIVE_FIELDS = set(RuleForm.Meta.fields) - {"position"}
FIT_RULE_FIELDS = ["position", "name", "field", "operator", "value", "description", "points"]


class DemographicRuleInline(RuleInline):
    layer = Layer.DEMOGRAPHIC
    verbose_name = "demographic fit rule"
    verbose_name_plural = "Demographic fit: who the person is (points once)"
    fields = FIT_RULE_FIELDS


class FirmographicRuleInline(RuleInline):
    layer = Layer.FIRMOGRAPHIC
    verbose_name = "firmographic fit rule"
    verbose_name_plural = "Firmographic fit: their company (points once)"
    fields = FIT_RULE_FIELDS


class EngagementRuleInline(RuleInline):
    layer = Layer.ENGAGEMENT
    verbose_name = "engagement rule"
    verbose_name_plural = "Engagement: what they did (points per activity)"
    fields = [
        "position",
        "name",
        "activity_kinds",
        "url_pattern",
        "property_conditions",
        "description",
        "points",
        "window_days",
        "cap",
        "half_life_days",
    ]


class DisqualifierRuleInline(RuleInline):
    layer = Layer.DISQUALIFIER
    verbose_name = "disqualifier"
    verbose_name_plural = "Disqualifiers: never an MQL (a field, or an activity)"
    fields = [
        "position",
        "name",
        "field",
        "operator",
        "value",
        "activity_kinds",
        "url_pattern",
        "description",
        "window_days",
    ]


# The fields each layer's rows show, for reading one row on its own.
LAYER_FIELDS = {
    inline.layer: inline.fields
    for inline in (
        DemographicRuleInline,
        FirmographicRuleInline,
        EngagementRuleInline,
        DisqualifierRuleInline,
    )
}


# --- Versions ------------------------------------------------------------------------


EDITABLE_SETTINGS = [*rule_services.MODEL_SETTINGS, rule_services.SOURCES]


class ScoringModelForm(forms.ModelForm):
    class Meta:
        model = ScoringModel
        fields = EDITABLE_SETTINGS
        widgets = {"eligible_sources": forms.CheckboxSelectMultiple}

    def clean(self):
        cleaned = super().clean()
        # The same check the service makes, here so that it shows on the field.
        candidate = copy.copy(self.instance)
        for name, value in cleaned.items():
            if name != rule_services.SOURCES:
                setattr(candidate, name, value)
        rule_services.check_model_settings(candidate)
        return cleaned


# Settings the services copy and edit that the fieldsets below do not place
# themselves (account scoring, and whatever comes next) still show, grouped.
_PLACED = {
    "name",
    "notes",
    "threshold",
    "min_fit",
    "min_engagement",
    "grade_a_min",
    "grade_b_min",
    "grade_c_min",
    "fit_floor",
    "fit_ceiling",
    "engagement_floor",
    "engagement_ceiling",
    "total_floor",
    "total_ceiling",
}
_ACCOUNT = [f for f in rule_services.MODEL_SETTINGS if f.startswith("account_")]
_OTHER = [f for f in rule_services.MODEL_SETTINGS if f not in _PLACED and f not in _ACCOUNT]
MORE_SETTINGS = [
    (title, {"classes": ["collapse"], "fields": fields})
    for title, fields in [("Account (ABM) scoring", _ACCOUNT), ("Other settings", _OTHER)]
    if fields
]
ALWAYS_READ_ONLY = [
    "version",
    "status",
    "based_on",
    "created_by",
    "created_at",
    "submitted_by",
    "submitted_at",
    "approved_by",
    "approved_at",
    "published_by",
    "published_at",
    "archived_at",
    "audit_trail",
]


@dataclass(frozen=True)
class Step:
    label: str
    permissions: tuple[str, ...]  # any one of them will do
    statuses: tuple[str, ...]
    primary: bool = False


STEPS: dict[str, Step] = {
    "clone": Step(
        "Clone into a new draft", ("scoring.add_scoringmodel",), tuple(ModelStatus.values)
    ),
    "submit": Step(
        "Submit for approval", ("scoring.change_scoringmodel",), (ModelStatus.DRAFT,), primary=True
    ),
    "return": Step(
        "Return to draft",
        ("scoring.change_scoringmodel", "scoring.approve_scoringmodel"),
        (ModelStatus.SUBMITTED, ModelStatus.APPROVED),
    ),
    "approve": Step(
        "Approve", ("scoring.approve_scoringmodel",), (ModelStatus.SUBMITTED,), primary=True
    ),
    "publish": Step(
        "Publish", ("scoring.publish_scoringmodel",), (ModelStatus.APPROVED,), primary=True
    ),
}
PREVIEWABLE = (ModelStatus.DRAFT, ModelStatus.SUBMITTED, ModelStatus.APPROVED)


def _may(user, step: Step) -> bool:
    return any(user.has_perm(p) for p in step.permissions)


def _status_line(model: ScoringModel) -> str:
    """What happens next to a version, after its status in bold."""

    def who(user) -> str:
        return (user.get_full_name() or user.username) if user is not None else "The system"

    def when(at: datetime | None) -> str:
        return f"{timezone.localtime(at):%Y-%m-%d %H:%M}" if at else "an unknown date"

    if model.status == ModelStatus.DRAFT:
        return (
            "Change its settings and rules below, preview the impact, then submit it "
            "for a sales manager's approval."
        )
    if model.status == ModelStatus.SUBMITTED:
        return (
            f"{who(model.submitted_by)} submitted it on {when(model.submitted_at)}; it "
            "waits for a sales manager's approval."
        )
    if model.status == ModelStatus.APPROVED:
        return (
            f"{who(model.approved_by)} approved it on {when(model.approved_at)}; "
            "marketing ops can publish it."
        )
    if model.status == ModelStatus.PUBLISHED:
        return (
            f"Every lead is scored with it since {when(model.published_at)}. Clone it "
            "into a new draft to change it."
        )
    return f"A newer version replaced it on {when(model.archived_at)}."


@admin.register(ScoringModel)
class ScoringModelAdmin(admin.ModelAdmin):
    """The versions of the MQL definition, and their rules by layer."""

    form = ScoringModelForm
    list_display = ["version", "name", "status", "threshold", "published_at"]
    list_display_links = ["version", "name"]
    list_filter = ["status"]
    search_fields = ["name", "notes"]
    actions = None  # no bulk delete: a draft is discarded from its page, through the service
    inlines = [
        DemographicRuleInline,
        FirmographicRuleInline,
        EngagementRuleInline,
        DisqualifierRuleInline,
        CommitteeRoleInline,
    ]
    fieldsets = [
        (None, {"fields": ["version", "name", "status", "based_on", "notes"]}),
        (
            "When a lead is an MQL",
            {"fields": ["threshold", "min_fit", "min_engagement", "eligible_sources"]},
        ),
        ("Grades, from the fit score", {"fields": [("grade_a_min", "grade_b_min", "grade_c_min")]}),
        (
            "Bounds of each score",
            {
                "classes": ["collapse"],
                "fields": [
                    ("fit_floor", "fit_ceiling"),
                    ("engagement_floor", "engagement_ceiling"),
                    ("total_floor", "total_ceiling"),
                ],
            },
        ),
        *MORE_SETTINGS,
        (
            "Life of this version",
            {
                "classes": ["collapse"],
                "fields": [
                    ("created_by", "created_at"),
                    ("submitted_by", "submitted_at"),
                    ("approved_by", "approved_at"),
                    ("published_by", "published_at"),
                    "archived_at",
                    "audit_trail",
                ],
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        if _editable(obj) and self.has_change_permission(request, obj):
            return ALWAYS_READ_ONLY
        return ALWAYS_READ_ONLY + EDITABLE_SETTINGS

    # New versions are cloned from an existing one (a button on its page).
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return (obj is None or obj.is_editable) and super().has_delete_permission(request, obj)

    @admin.display(description="audit trail")
    def audit_trail(self, obj: ScoringModel) -> str:
        entries = AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(ScoringModel), object_id=str(obj.pk)
        )[:100]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    f"{timezone.localtime(e.at):%Y-%m-%d %H:%M}",
                    e.who,
                    e.action,
                    e.note,
                    audit.describe_changes(e.changes),
                )
                for e in entries
            ),
        )
        return format_html(
            "<table><thead><tr><th>When</th><th>Who</th><th>What</th><th>Which</th>"
            "<th>Changes</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    # --- the page ------------------------------------------------------------------

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self._version_context(request, obj))
            if not (_editable(obj) and self.has_change_permission(request, obj)):
                context.update(
                    show_save=False, show_save_and_continue=False, show_save_and_add_another=False
                )
        context["rule_fields"] = sorted(FIELDS)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _version_context(self, request, obj: ScoringModel) -> dict:
        steps = [
            {
                "label": step.label,
                "primary": step.primary,
                "url": reverse("admin:scoring_scoringmodel_step", args=[obj.pk, name]),
            }
            for name, step in STEPS.items()
            if obj.status in step.statuses and _may(request.user, step)
        ]
        job = RescoreJob.objects.filter(model=obj).order_by("-created_at").first()
        return {
            "steps": steps,
            "status_line": _status_line(obj),
            "preview_url": (
                reverse("admin:scoring_scoringmodel_preview", args=[obj.pk])
                if obj.status in PREVIEWABLE
                else None
            ),
            "rescore_job": job,
            "rescore_progress": job_progress(job) if job is not None else None,
        }

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            # The admin's transaction rolled back: nothing of the request was written.
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(request.path)

    # --- writes, through the services ------------------------------------------

    def save_model(self, request, obj, form, change):
        changed = {
            name: form.cleaned_data[name] for name in form.changed_data if name in EDITABLE_SETTINGS
        }
        # Called even with nothing changed: the service refuses a version that
        # stopped being a draft while the page was open.
        rule_services.update_model_settings(model=obj, by=request.user, **changed)

    def save_related(self, request, form, formsets, change):
        # The eligible sources went through the service in save_model.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        # Rules and committee roles are written by their services (guarded,
        # audited); formset.save(commit=False) only sorts the forms out.
        if formset.model is Rule:
            changed = formset.save(commit=False)
            for rule in formset.deleted_objects:
                services.delete_rule(rule=rule, by=request.user)
            for rule in changed:
                services.save_rule(rule=rule, by=request.user)
        elif formset.model is CommitteeRole:
            changed = formset.save(commit=False)
            for role in formset.deleted_objects:
                services.delete_committee_role(role=role, by=request.user)
            for role in changed:
                services.save_committee_role(role=role, by=request.user)
        else:
            # Another app's inline on this page answers for its own rows.
            super().save_formset(request, form, formset, change)

    def delete_model(self, request, obj):
        services.discard_draft(model=obj, by=request.user)

    # --- the steps of a version's life, and the preview -------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:object_id>/step/<slug:step>/",
                view(self.step_view),
                name="scoring_scoringmodel_step",
            ),
            path(
                "<int:object_id>/preview/",
                view(self.preview_view),
                name="scoring_scoringmodel_preview",
            ),
            path(
                "<int:object_id>/rule-live/",
                view(self.rule_live_view),
                name="scoring_scoringmodel_rule_live",
            ),
            *super().get_urls(),
        ]

    def rule_live_view(self, request, object_id: int):
        """One rule row's sentence and current match count, as ops edit it (htmx).

        Reads the row the edited input belongs to (its name's prefix) from the
        page's form, or a saved rule (``rule``) when the row first shows."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        model = get_object_or_404(ScoringModel, pk=object_id)
        if not self.has_view_permission(request, model):
            raise PermissionDenied
        if request.POST.get("rule"):
            rule = get_object_or_404(Rule, pk=request.POST["rule"], model=model)
        else:
            trigger = request.headers.get("HX-Trigger-Name", "")
            prefix = trigger.rsplit("-", 1)[0]
            layer = request.POST.get("layer", "")
            if not prefix or layer not in Layer.values:
                return HttpResponse("")
            row_form = forms.modelform_factory(Rule, form=RuleForm, fields=LAYER_FIELDS[layer])
            form = row_form(request.POST, prefix=prefix, instance=Rule(model=model, layer=layer))
            if not form.is_valid():
                # The first field's problem: the model's own check repeats it otherwise.
                problems = list(next(iter(form.errors.values())))[:1]
                # A value still to give: the data's own values help to give it.
                picks = _picks(
                    form.data.get(f"{prefix}-field", ""), form.data.get(f"{prefix}-operator", "")
                )
                return HttpResponse(
                    format_html('<span class="rule-problem">{}</span>{}', " ".join(problems), picks)
                )
            rule = form.instance
        try:
            rule.full_clean(exclude=["model"])
        except ValidationError as error:
            return HttpResponse(
                format_html('<span class="rule-problem">{}</span>', " ".join(error.messages))
            )
        return HttpResponse(_live_text(rule, selectors.rule_match_count(rule=rule)))

    def step_view(self, request, object_id: int, step: str):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if step not in STEPS:
            raise Http404
        if not _may(request.user, STEPS[step]):
            raise PermissionDenied
        model = get_object_or_404(ScoringModel, pk=object_id)
        by = request.user
        try:
            target = reverse("admin:scoring_scoringmodel_change", args=[model.pk])
            if step == "clone":
                draft = services.clone_model(source=model, by=by)
                message = f"New draft v{draft.version}, cloned from v{model.version}."
                target = reverse("admin:scoring_scoringmodel_change", args=[draft.pk])
            elif step == "submit":
                services.submit_model(model=model, by=by)
                message = f"Submitted v{model.version} for a sales manager's approval."
            elif step == "return":
                services.return_to_draft(model=model, by=by)
                message = f"Returned v{model.version} to draft."
            elif step == "approve":
                services.approve_model(model=model, by=by)
                message = f"Approved v{model.version}: marketing ops can publish it."
            else:
                job = services.publish_model(model=model, by=by)
                message = f"Published v{model.version}: every lead is being rescored."
                target = reverse("admin:scoring_rescorejob_change", args=[job.pk])
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return redirect("admin:scoring_scoringmodel_change", model.pk)
        self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(target)

    def preview_view(self, request, object_id: int):
        model = get_object_or_404(ScoringModel, pk=object_id)
        if not self.has_view_permission(request, model):
            raise PermissionDenied
        if model.status not in PREVIEWABLE:
            self.message_user(
                request,
                f"v{model.version} is {model.status}: there is nothing "
                "to preview. Clone it into a new draft first.",
                messages.ERROR,
            )
            return redirect("admin:scoring_scoringmodel_change", model.pk)
        impact = preview_impact(draft=model)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": model,
            "impact": impact,
            "title": f"Impact of v{model.version} against the live version",
        }
        return render(request, "admin/scoring/scoringmodel/preview.html", context)


# --- Rescore jobs --------------------------------------------------------------------


@dataclass(frozen=True)
class JobProgress:
    percent: int
    rate: float | None  # leads per second, since the job started
    expected_finish: datetime | None


def job_progress(job: RescoreJob, *, now: datetime | None = None) -> JobProgress:
    """How far a job is, how fast it goes and, while it runs, when it should end."""
    now = now or timezone.now()
    elapsed = ((job.finished_at or now) - job.created_at).total_seconds()
    rate = job.leads_scored / elapsed if job.leads_scored and elapsed > 0 else None
    finish = None
    if job.status == JobStatus.RUNNING and rate:
        finish = now + timedelta(seconds=(job.leads_total - job.leads_scored) / rate)
    return JobProgress(percent=job.percent, rate=rate, expected_finish=finish)


@admin.register(RescoreJob)
class RescoreJobAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "model",
        "reason",
        "status",
        "percent",
        "leads_scored",
        "leads_total",
        "scores_changed",
        "became_mql",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "reason"]
    list_select_related = ["model"]
    # Status and finish time are in the progress box, which polls; fields here would go stale.
    fields = ["model", "reason", "as_of", "engaged_since", "created_by", "created_at"]
    readonly_fields = fields

    @admin.display(description="done")
    def percent(self, job: RescoreJob) -> str:
        return f"{job_progress(job).percent} %"

    def has_view_permission(self, request, obj=None):
        # Whoever sees the versions sees their rescoring (the roles were given
        # view rights on versions, not on jobs).
        return super().has_view_permission(request, obj) or request.user.has_perm(
            "scoring.view_scoringmodel"
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["progress"] = job_progress(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        return [
            path(
                "<int:object_id>/progress/",
                self.admin_site.admin_view(self.progress_view),
                name="scoring_rescorejob_progress",
            ),
            *super().get_urls(),
        ]

    def progress_view(self, request, object_id: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        job = get_object_or_404(RescoreJob.objects.select_related("model"), pk=object_id)
        return render(
            request,
            "admin/scoring/rescorejob/change_form.html#progress",
            {"job": job, "progress": job_progress(job)},
        )


# --- Scores --------------------------------------------------------------------------


def explanation_table(explanation: list[dict]) -> str:
    return render_to_string("scoring/explanation_table.html", {"lines": explanation})


class GradeFilter(admin.SimpleListFilter):
    """The four grades, listed without asking the database (a DISTINCT over
    every score on each page load would cost more than the page)."""

    title = "grade"
    parameter_name = "grade"

    def lookups(self, request, model_admin):
        return [(letter, letter) for letter in "ABCD"]

    def queryset(self, request, queryset):
        return queryset.filter(grade=self.value()) if self.value() else queryset


@admin.register(LeadScore)
class LeadScoreAdmin(ReadOnlyAdmin):
    list_display = [
        "lead",
        "version",
        "total",
        "fit",
        "engagement",
        "grade",
        "qualifies",
        "scored_at",
    ]
    list_filter = ["qualifies", GradeFilter, "disqualified"]
    list_select_related = ["lead", "model"]
    search_fields = ["lead__email", "lead__external_id"]
    show_full_result_count = False  # a count of a million rows on every search is wasted
    fields = [
        "lead",
        "model",
        "total",
        "fit",
        "engagement",
        "grade",
        "disqualified",
        "qualifies",
        "scored_at",
        "why",
    ]
    readonly_fields = fields

    @admin.display(description="version", ordering="model__version")
    def version(self, score: LeadScore) -> str:
        return f"v{score.model.version}"

    @admin.display(description="why")
    def why(self, score: LeadScore) -> str:
        return explanation_table(score.explanation)


@admin.register(MQLSnapshot)
class MQLSnapshotAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "lead",
        "version",
        "total",
        "fit",
        "engagement",
        "grade",
        "crossing",
        "eligible_source",
    ]
    list_filter = ["created_at", GradeFilter, "crossing"]
    list_select_related = ["lead", "model", "eligible_source"]
    search_fields = ["lead__email", "lead__external_id"]
    fields = [
        "lead",
        "model",
        "created_at",
        "crossing",
        "crossing_note",
        "sent_by",
        "eligible_source",
        "eligible_since",
        "total",
        "fit",
        "engagement",
        "grade",
        "why",
    ]
    readonly_fields = fields

    @admin.display(description="version", ordering="model__version")
    def version(self, snapshot: MQLSnapshot) -> str:
        return f"v{snapshot.model.version}"

    @admin.display(description="why (what sales saw at hand-off)")
    def why(self, snapshot: MQLSnapshot) -> str:
        return explanation_table(snapshot.explanation)


@admin.register(HandRaiseKind)
class HandRaiseKindAdmin(admin.ModelAdmin):
    """The activity kinds that are hand-raises: an eligible lead who raises a
    hand is made an MQL and routed at once, whatever its score."""

    list_display = ["kind", "created_at"]
    search_fields = ["kind"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.record(
            actor=request.user,
            action="changed" if change else "added",
            obj=obj,
            changes={"kind": [form.initial.get("kind"), obj.kind]},
        )

    def delete_model(self, request, obj):
        audit.record(
            actor=request.user, action="deleted", obj=obj, changes={"kind": [obj.kind, None]}
        )
        super().delete_model(request, obj)


@admin.register(HeldHandRaise)
class HeldHandRaiseAdmin(ReadOnlyAdmin):
    """Hand-raisers held back: a disqualifier rule (a student, a competitor,
    do-not-contact) kept them from sales. Listed so that ops decide, never
    dropped silently; a lead worth a call can be sent to sales by hand."""

    list_display = ["held_at", "lead", "kind", "raised_at", "held_by_rules", "lead_stage"]
    list_filter = ["kind", "held_at"]
    list_select_related = ["lead"]
    search_fields = ["lead__email", "lead__external_id"]
    date_hierarchy = "held_at"
    fields = ["lead", "kind", "raised_at", "held_by_rules", "model", "held_at"]
    readonly_fields = fields

    @admin.display(description="held back by")
    def held_by_rules(self, held: HeldHandRaise) -> str:
        return ", ".join(held.rules) or "—"

    @admin.display(description="lead's stage now", ordering="lead__stage")
    def lead_stage(self, held: HeldHandRaise) -> str:
        return held.lead.get_stage_display()
