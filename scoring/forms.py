"""Forms of scoring's pages (the rule editor's are in rule_forms)."""

from __future__ import annotations

from django import forms

from leads.models import LeadSource

GRADES = [("", "Any grade"), ("A", "A"), ("B", "B"), ("C", "C"), ("D", "D")]


class NurtureFilterForm(forms.Form):
    """The nurture list's filters: where leads came from, and how well they fit."""

    source = forms.ModelChoiceField(
        queryset=LeadSource.objects.order_by("name"), required=False, empty_label="Any source"
    )
    grade = forms.ChoiceField(choices=GRADES, required=False, label="Fit grade")

    def filters(self) -> dict[str, object]:
        """The selector's keyword arguments (call after is_valid)."""
        source = self.cleaned_data.get("source")
        return {
            "source_id": source.pk if source is not None else None,
            "grade": self.cleaned_data.get("grade") or "",
        }
