"""Validators shared by the API's serializers."""

import re
from typing import Any

from rest_framework import serializers

_SURROGATE = re.compile("[\ud800-\udfff]")


# Ids are 64-bit signed integers (BigAutoField): a larger one is nobody's row,
# and SQLite cannot even bind it (an OverflowError, a 500).
MAX_ID = 2**63 - 1

# Properties and attributes are flat in practice. A bound keeps every recursive
# reader of the value afterwards (json.dumps, psycopg, the scoring engine, a
# template) far from Python's recursion limit, which ~960 levels reached.
MAX_JSON_DEPTH = 32


def unstorable_text(value: Any) -> str | None:
    """What in a JSON value PostgreSQL cannot store, or None: a NUL character
    (refused in text and jsonb) or a lone surrogate (not UTF-8), in any key or
    string however deeply nested; or nesting deeper than MAX_JSON_DEPTH.

    A loop with its own stack, not recursion: the value may be nested
    thousands of levels deep, and must not exhaust Python's stack here.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "a NUL character (\\u0000)"
            if not item.isascii() and _SURROGATE.search(item):
                return "a lone surrogate (\\ud800-\\udfff)"
        elif isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                return f"values nested more than {MAX_JSON_DEPTH} levels deep"
            children = list(item) if isinstance(item, list) else [*item.keys(), *item.values()]
            # Reversed, so that a problem early in the value is found first.
            stack.extend((child, depth + 1) for child in reversed(children))
    return None


def storable_json(value: Any) -> None:
    """Refuses, with a message the caller can act on, JSON the database would
    refuse with an error (a 500 otherwise)."""
    problem = unstorable_text(value)
    if problem:
        raise serializers.ValidationError(f"Contains {problem}, which cannot be stored.")
