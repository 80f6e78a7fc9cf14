"""The admin's upload form: a CSV file and a mapping (shipped or uploaded)."""

import json
from typing import Any

from django import forms

from leads.importing.mapping import MappingError, parse_mapping, shipped_mappings

MAX_MAPPING_BYTES = 1024 * 1024


class ImportLeadsForm(forms.Form):
    file = forms.FileField(
        label="CSV file", help_text="UTF-8 text (Excel: 'CSV UTF-8'), the header on line 1."
    )
    shipped_mapping = forms.ChoiceField(label="Mapping", required=False)
    mapping_file = forms.FileField(
        label="…or upload a mapping", required=False, help_text="A mapping JSON file."
    )
    skip_invalid = forms.BooleanField(
        label="Skip invalid rows",
        required=False,
        help_text="Import the good rows and list the bad ones. Unticked, a file with any "
        "bad row imports nothing.",
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.shipped = shipped_mappings()
        self.fields["shipped_mapping"].choices = [
            ("", "— the uploaded mapping —"),
            *((name, name.replace("_", " ").capitalize()) for name in self.shipped),
        ]

    def clean(self) -> dict[str, Any]:
        """Adds ``mapping``: the chosen mapping as JSON data, checked."""
        data = super().clean()
        name, upload = data.get("shipped_mapping"), data.get("mapping_file")
        if bool(name) == bool(upload):
            raise forms.ValidationError("Choose a shipped mapping or upload one (not both).")
        if name:
            data["mapping"] = self.shipped[name]
            return data
        if upload.size > MAX_MAPPING_BYTES:
            raise forms.ValidationError("The mapping file is larger than 1 MB.")
        try:
            raw = json.loads(upload.read())
            parse_mapping(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            self.add_error("mapping_file", f"The mapping is not valid JSON ({error}).")
        except MappingError as error:
            self.add_error("mapping_file", error.problems)
        else:
            data["mapping"] = raw
        return data
