from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "A person's data"
    default_auto_field = "django.db.models.BigAutoField"
