"""Recalibration in the admin: start a run, watch it, read its proposal beside
the live version. Runs are written by feedback.recalibration only."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse

from feedback import recalibration
from feedback.models import Recalibration


class StartRecalibrationForm(forms.Form):
    source = forms.ChoiceField(
        choices=Recalibration.Source.choices, initial=Recalibration.Source.HANDOFFS
    )
    outcome = forms.ChoiceField(
        choices=[c for c in Recalibration.Outcome.choices if c[0] != "known"],
        initial=Recalibration.Outcome.ACCEPTED,
        help_text="For hand-offs: what counts as a good MQL. Imported history uses its "
        "known outcome.",
    )
    target_acceptance = forms.DecimalField(
        min_value=0.05,
        max_value=0.95,
        decimal_places=2,
        initial=0.65,
        help_text="The acceptance rate the proposed threshold aims for (healthy: 0.60 to 0.75).",
    )
    min_volume = forms.DecimalField(
        min_value=0.01,
        max_value=0.5,
        decimal_places=2,
        initial=0.05,
        label="Minimum volume",
        help_text="The least share of leads the threshold must send (0.05 = 5 %): when the "
        "target cannot be reached, the best acceptance that still sends this many.",
    )
    max_rules = forms.IntegerField(
        min_value=1,
        max_value=50,
        initial=15,
        label="Most rules",
        help_text="A scorecard people can read: at most this many rules.",
    )
    keep_columns = forms.CharField(
        required=False,
        label="Keep despite the leak guard",
        help_text="Columns to learn from even though one alone predicts the outcome almost "
        "perfectly, as the panel names them, separated by commas.",
    )
    keep_reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why they are known before contact",
    )

    def clean(self):
        cleaned = super().clean()
        columns = [c.strip() for c in cleaned.get("keep_columns", "").split(",") if c.strip()]
        cleaned["keep_columns"] = columns
        if columns and not cleaned.get("keep_reason", "").strip():
            self.add_error(
                "keep_reason",
                "Say why these columns are known before contact: the reason is recorded.",
            )
        return cleaned


@admin.register(Recalibration)
class RecalibrationAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "source",
        "outcome",
        "status",
        "progress",
        "proposal",
        "requested_by",
        "created_at",
    ]
    list_filter = ["status", "source"]
    list_select_related = ["proposal", "requested_by"]
    # Only what never changes: status, progress and the proposal are in the
    # panel below, which polls while the run is under way.
    fields = [
        "source",
        "outcome",
        "target_acceptance",
        "min_volume",
        "max_rules",
        "keep_columns",
        "keep_reason",
        "based_on",
        "requested_by",
        "created_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("report")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # A run proposes a scoring model version: whoever drafts versions may start
    # one, and whoever drafts or approves them may read it.
    def has_add_permission(self, request):
        return request.user.has_perm("scoring.add_scoringmodel")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("scoring.add_scoringmodel") or request.user.has_perm(
            "scoring.approve_scoringmodel"
        )

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def get_urls(self):
        return [
            path(
                "start/",
                self.admin_site.admin_view(self.start_view),
                name="feedback_recalibration_start",
            ),
            path(
                "<int:object_id>/progress/",
                self.admin_site.admin_view(self.progress_view),
                name="feedback_recalibration_progress",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:feedback_recalibration_start")

    def start_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = StartRecalibrationForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            run = recalibration.start_recalibration(
                source=form.cleaned_data["source"],
                outcome=form.cleaned_data["outcome"],
                target=float(form.cleaned_data["target_acceptance"]),
                min_volume=float(form.cleaned_data["min_volume"]),
                max_rules=form.cleaned_data["max_rules"],
                keep_columns=form.cleaned_data["keep_columns"],
                keep_reason=form.cleaned_data["keep_reason"],
                by=request.user,
            )
            return redirect("admin:feedback_recalibration_change", run.pk)
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": "Start a recalibration",
            "opts": self.model._meta,
        }
        return render(request, "admin/feedback/recalibration/start.html", context)

    def progress_view(self, request, object_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = get_object_or_404(
            Recalibration.objects.select_related("proposal", "based_on"), pk=object_id
        )
        return render(
            request, "admin/feedback/recalibration/change_form.html#progress", self._context(run)
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = get_object_or_404(
            Recalibration.objects.select_related("proposal", "based_on"), pk=object_id
        )
        return super().change_view(
            request,
            object_id,
            form_url,
            extra_context={**(extra_context or {}), **self._context(run)},
        )

    @staticmethod
    def _context(run: Recalibration) -> dict:
        proposal_url = (
            reverse("admin:scoring_scoringmodel_change", args=[run.proposal_id])
            if run.proposal_id
            else ""
        )
        return {
            "run": run,
            "report": run.report,
            "panel": panel(run.report) if run.report else None,
            "proposal_url": proposal_url,
        }


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _interval(figure: dict, fmt) -> dict[str, str]:
    low, high = figure.get("low"), figure.get("high")
    return {
        "value": fmt(figure.get("value")),
        "interval": f"{fmt(low)} to {fmt(high)}" if low is not None and high is not None else "",
    }


def _auc(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _side(figures: dict) -> dict:
    return {
        "auc": _interval(figures["auc"], _auc),
        "acceptance": _interval(figures["acceptance"], _percent),
        "volume": _interval(figures["volume"], _percent),
        "mqls": f"{figures['mqls']:,}",
        "accepted": f"{figures['accepted']:,}",
        "rows": f"{figures['rows']:,}",
        "threshold": f"{figures['threshold']:,}",
    }


def _change(rule: dict) -> str:
    if rule["existing_rule_id"] is None:
        return "new"
    if rule.get("untouched"):
        who = "none of these leads meets it" if rule["support"] == 0 else "every lead meets it"
        return f"unchanged: {who}, so they cannot judge it"
    return "removed" if rule["new_points"] == 0 else ""


def panel(report: dict) -> dict | None:
    """The report in the words and numbers the page shows: thousands
    separators, percentages, intervals as "from to". None for a report of
    an older shape (before the three-part split)."""
    if "draft" not in report:
        return None
    selection = report["selection"]
    lift = report.get("lift")
    return {
        "rows": f"{report['rows']:,}",
        "positives": f"{report['positives']:,}",
        "counted": report["counted"],
        "proposed": report["verdict"] == "proposed",
        "reasons": report["reasons"],
        "split": {
            **report["split"],
            "parts": [
                {
                    **part,
                    "rows": f"{part['rows']:,}",
                    "positives": f"{part['positives']:,}",
                    "dates": f"{part['from']} to {part['to']}" if part["from"] else "",
                }
                for part in report["split"]["parts"]
            ],
        },
        "draft": _side(report["draft"]),
        "live": _side(report["live"]),
        "live_version": report["live_version"],
        "lift": _interval(lift, lambda v: "—" if v is None else f"{v:+.2f}") if lift else None,
        "target": _percent(report["target_acceptance"]),
        "min_volume": _percent(report["min_volume"]),
        "reached": report["threshold_reaches_target"],
        "selection": {
            **selection,
            "full_auc": _auc(selection["full_auc"]),
            "readable_auc": _auc(selection["readable_auc"]),
            "candidates": f"{selection['candidates']:,}",
        },
        "excluded": report["excluded"],
        "kept_despite_leak": report["kept_despite_leak"],
        "rules": [
            {
                **rule,
                "support": _percent(rule["support"]),
                "change": _change(rule),
            }
            for rule in report["rules"]
        ],
        "notes": report["notes"],
    }
