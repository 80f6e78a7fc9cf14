"""Validators shared by the API's serializers."""

import re
from typing import Any

from rest_framework import serializers

_SURROGATE = re.compile("[\ud800-\udfff]")


def unstorable_text(value: Any) -> str | None:
    """What in a JSON value PostgreSQL cannot store, or None: a NUL character
    (refused in text and jsonb) or a lone surrogate (not UTF-8), in any key or
    string however deeply nested."""
    if isinstance(value, str):
        if "\x00" in value:
            return "a NUL character (\\u0000)"
        if not value.isascii() and _SURROGATE.search(value):
            return "a lone surrogate (\\ud800-\\udfff)"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            problem = unstorable_text(key) or unstorable_text(item)
            if problem:
                return problem
    elif isinstance(value, list):
        for item in value:
            problem = unstorable_text(item)
            if problem:
                return problem
    return None


def storable_json(value: Any) -> None:
    """Refuses, with a message the caller can act on, JSON the database would
    refuse with an error (a 500 otherwise)."""
    problem = unstorable_text(value)
    if problem:
        raise serializers.ValidationError(f"Contains {problem}, which cannot be stored.")
