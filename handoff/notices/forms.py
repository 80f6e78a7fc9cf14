"""Forms of the notices pages: they validate and shape input, nothing more."""

from __future__ import annotations

from typing import Any

from django import forms

from handoff.models import Channel, NoticeKind, NoticePreferences
from handoff.notices.services import channels_for
from handoff.notices.webhooks import validate_webhook_url


class MarkNoticesReadForm(forms.Form):
    """One notice (``notice``) or, without it, every unread notice."""

    notice = forms.IntegerField(required=False, min_value=1)


class NoticePreferencesForm(forms.Form):
    """For each kind of notice, its channels; and the person's chat webhook."""

    chat_url = forms.CharField(
        label="Chat webhook URL",
        required=False,
        max_length=500,
        validators=[validate_webhook_url],
        help_text=(
            "The incoming-webhook URL Slack or Microsoft Teams (Workflows) gives you. "
            "Without one, chat notices go to your queue's webhook, if it has one."
        ),
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.slack.com/services/…"}),
    )

    def __init__(self, *args: Any, preferences: NoticePreferences | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for kind in NoticeKind:
            self.fields[kind.value] = forms.MultipleChoiceField(
                label=kind.label,
                required=False,
                choices=Channel.choices,
                widget=forms.CheckboxSelectMultiple,
                initial=sorted(channels_for(preferences, kind)),
            )
        if preferences is not None:
            self.fields["chat_url"].initial = preferences.chat_url

    def kind_fields(self) -> list[forms.BoundField]:
        return [self[kind] for kind in NoticeKind.values]

    def channels(self) -> dict[str, list[str]]:
        return {kind: self.cleaned_data[kind] for kind in NoticeKind.values}
