"""The audit trail, shared by every app: who changed what, from what to what."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models


class AuditEntry(models.Model):
    """One recorded change. Written only by handoff.audit.record; never edited."""

    # PROTECT: people who leave are deactivated, not deleted, while the trail names them.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty when the system acted (a task, a migration).",
    )
    actor_name = models.CharField(
        max_length=150,
        blank=True,
        help_text="The actor's username when the entry was written; empty for the system.",
    )
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=50)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=300)
    changes = models.JSONField(
        default=dict, blank=True, help_text='{"field": [old, new]} for each changed field.'
    )
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"

    @property
    def who(self) -> str:
        """The actor's name as it was, or "system"."""
        return self.actor_name or "system"


class ApiTokenScope(models.TextChoices):
    """What an integration's token may do. Each API endpoint names the scope it
    needs for reading and for writing (handoff.api.scopes); a token without it
    gets 403, whatever its user's role allows."""

    LEADS_WRITE = "leads:write", "Create and update leads and accounts"
    ACTIVITIES_WRITE = "activities:write", "Send activity events"
    OUTCOMES_WRITE = "outcomes:write", "Send opportunities and their outcomes (won, lost)"
    LEADS_READ = "leads:read", "Read leads, accounts, activities, assignments and opportunities"
    SCORES_READ = "scores:read", "Read lead and account scores"


class ApiToken(models.Model):
    """A key an integration (web forms, web tracking, the CRM) sends as
    ``Authorization: Bearer <key>``. Only a hash of the key is stored; issued
    and revoked through handoff.tokens, which audits both."""

    name = models.CharField(max_length=100, help_text='Which integration, e.g. "Web forms".')
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_tokens",
        help_text="The integration account the token acts as (its role applies too).",
    )
    scopes = models.JSONField(default=list, help_text="What the token may do.")
    prefix = models.CharField(
        max_length=12,
        help_text="The key's first characters, to tell keys apart; the rest is not kept.",
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # PROTECT, as the audit trail's actor: who issued and revoked a token stays known.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    last_used_at = models.DateTimeField(
        null=True, blank=True, help_text="To the minute: not written on every request."
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"
        permissions = [("revoke_apitoken", "Can revoke API tokens")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
