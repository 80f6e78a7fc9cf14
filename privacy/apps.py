from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "A person's data"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from privacy import receivers  # noqa: F401  (connects the signal receivers)
