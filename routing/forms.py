"""Forms of the SDR's pages: they validate and shape input, nothing more.

The business rules (a reason is required, "other" needs a note, only the
assigned SDR may act) live in routing.services; their errors are put on these
forms by handoff.views_helpers.show_domain_error.
"""

from django import forms

from leads.models import Stage
from routing.models import Touch
from routing.services.decisions import RejectReason

NOTE_WIDGET = forms.Textarea(attrs={"rows": 2})


class AcceptForm(forms.Form):
    note = forms.CharField(required=False, widget=NOTE_WIDGET, max_length=2000)


class RejectForm(forms.Form):
    # Not required here: the service refuses a missing reason with its own message.
    reason = forms.ChoiceField(
        required=False,
        choices=[("", "Choose a reason…"), *RejectReason.choices],
    )
    note = forms.CharField(
        required=False,
        widget=NOTE_WIDGET,
        max_length=2000,
        help_text="Required when the reason is “Other”.",
    )


class RecycleForm(forms.Form):
    note = forms.CharField(
        required=False,
        widget=NOTE_WIDGET,
        max_length=2000,
        help_text="What marketing should know, e.g. “call back next quarter”.",
    )


class TouchForm(forms.Form):
    kind = forms.ChoiceField(choices=[(Touch.Kind.CALL, "Call"), (Touch.Kind.EMAIL, "Email")])
    note = forms.CharField(required=False, widget=NOTE_WIDGET, max_length=2000)


class AvailabilityForm(forms.Form):
    """Away until a moment (the service refuses one already past), or back."""

    until = forms.DateTimeField(
        required=False,
        label="Away until",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="Your local time. No new MQLs reach you until then.",
    )


class MyLeadsForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    stage = forms.ChoiceField(required=False, choices=[("", "Any stage"), *Stage.choices])


class ReassignForm(forms.Form):
    """Which MQLs go to whom, and why; the service checks the rest."""

    assignments = forms.TypedMultipleChoiceField(coerce=int, choices=(), required=False)
    to = forms.ModelChoiceField(queryset=None, empty_label="Choose an SDR…", label="To")
    reason = forms.CharField(required=False, max_length=300, label="Why")

    def __init__(self, *args, sdrs, assignment_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = sdrs
        self.fields["to"].label_from_instance = lambda u: u.get_full_name() or u.username
        self.fields["assignments"].choices = [(pk, pk) for pk in assignment_ids]
