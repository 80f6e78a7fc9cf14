"""Forms of the SDR's pages: they validate and shape input, nothing more.

The business rules (a reason is required, "other" needs a note, only the
assigned SDR may act) live in routing.services; their errors are put on these
forms by handoff.views_helpers.show_domain_error.
"""

from django import forms

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
