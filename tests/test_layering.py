"""The layering rule for templates: a page links only to URL names of its own
app or a lower one (import-linter checks the Python imports; a `{% url %}`
is an import too, made by name). A higher app that wants a lower page to link
to it passes the link down instead (see ARCHITECTURE.md)."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver

# Lowest first, as in ARCHITECTURE.md; `config` owns the site-wide templates/.
LAYERS = ("handoff", "leads", "scoring", "routing", "feedback", "privacy", "config")
URL_TAG = re.compile(r"{%\s*url\s+(['\"])(?P<name>[^'\"]+)\1")
ADMIN_MODEL_NAME = re.compile(r"^admin:(?P<label>[a-z_]+?)_[a-z]+_[a-z_]+$")


def _layer_of_module(module: str) -> str | None:
    top = module.split(".", 1)[0]
    return top if top in LAYERS else None


def _url_layers() -> dict[str, str | None]:
    """Every named URL, with the app whose view serves it (None: Django or a
    library, below every app)."""
    layers: dict[str, str | None] = {}

    def walk(patterns: list, namespace: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, inner)
            elif isinstance(entry, URLPattern) and entry.name:
                view = getattr(entry.callback, "view_class", entry.callback)
                layers[namespace + entry.name] = _layer_of_module(view.__module__)

    walk(get_resolver().url_patterns, "")
    # The admin's model pages are all served by Django's ModelAdmin: their
    # owner is the app label in the name (admin:scoring_rescorejob_progress).
    for name in list(layers):
        match = ADMIN_MODEL_NAME.match(name)
        if match and match["label"] in LAYERS:
            layers[name] = match["label"]
    return layers


def _template_files() -> list[tuple[Path, str]]:
    root = Path(settings.BASE_DIR)
    found = [(path, "config") for path in (root / "templates").rglob("*.html")]
    for layer in LAYERS[:-1]:
        found += [(path, layer) for path in (root / layer / "templates").rglob("*.html")]
    return found


def test_templates_link_only_to_their_own_app_or_a_lower_one():
    url_layers = _url_layers()
    upward, unknown = [], []
    for path, layer in _template_files():
        for match in URL_TAG.finditer(path.read_text()):
            name = match["name"]
            if name not in url_layers:
                unknown.append(f"{path.name}: {name}")
                continue
            target = url_layers[name]
            if target is not None and LAYERS.index(target) > LAYERS.index(layer):
                upward.append(
                    f"{path.relative_to(settings.BASE_DIR)} ({layer}) links to {name} ({target})"
                )
    assert unknown == []
    assert upward == []


def test_the_check_sees_an_upward_link():
    """The rule would not hold if every name were taken for a library's."""
    url_layers = _url_layers()
    assert url_layers["feedback:dashboard"] == "feedback"
    assert url_layers["routing:queue"] == "routing"
    assert url_layers["admin:scoring_scoringmodel_changelist"] == "scoring"
    assert url_layers["admin:index"] is None
