"""The import wizard's first step: the file, and optionally a mapping to start from."""

import json
from typing import Any

from django import forms

from leads.importing.mapping import MappingError, parse_mapping, shipped_mappings
from leads.models import ImportMapping

MAX_MAPPING_BYTES = 1024 * 1024


class ImportLeadsForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Comma, semicolon or tab separated; UTF-8 or Windows-1252: the encoding and "
        "the separator are detected. The header on line 1.",
    )
    mapping = forms.ChoiceField(
        label="Start from",
        required=False,
        help_text="A mapping saved earlier fills in the next step for you; you can still "
        "change it there.",
    )
    mapping_file = forms.FileField(
        label="…or a mapping JSON file",
        required=False,
        help_text="A mapping exported from here, or written for import_leads --mapping.",
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.shipped = shipped_mappings()
        self.fields["mapping"].choices = [
            ("", "— nothing: map the columns —"),
            *(
                (f"saved:{pk}", name)
                for pk, name in ImportMapping.objects.values_list("pk", "name")
            ),
            *(
                (f"shipped:{name}", f"{name.replace('_', ' ').capitalize()} (shipped)")
                for name in self.shipped
            ),
        ]

    def clean(self) -> dict[str, Any]:
        """Adds ``start_from``: the chosen mapping as JSON data, checked, or None."""
        data = super().clean()
        choice, upload = data.get("mapping"), data.get("mapping_file")
        data["start_from"] = None
        if choice and upload:
            raise forms.ValidationError("Choose a mapping or upload one (not both).")
        if choice:
            kind, _, key = choice.partition(":")
            if kind == "shipped":
                data["start_from"] = self.shipped[key]
            else:
                saved = ImportMapping.objects.filter(pk=key).first()
                if saved is None:
                    self.add_error("mapping", "That mapping was deleted meanwhile.")
                else:
                    data["start_from"] = saved.mapping
            return data
        if upload is None:
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
            data["start_from"] = raw
        return data
