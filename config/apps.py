from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The project package as an app, for what spans every app: the demo's
    orchestration (its seed_demo command) lives here, at the top, since it
    calls leads, scoring and routing in turn and no app may import one above it."""

    name = "config"
    label = "site"
    verbose_name = "Handoff site"
