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
    fields = ["source", "outcome", "target_acceptance", "based_on", "requested_by", "created_at"]
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
            "proposal_url": proposal_url,
        }
