"""Requests about a person's data: each erasure done, kept as the record of it."""

from django.conf import settings
from django.db import models

from leads.models import Lead


class Erasure(models.Model):
    """A person's data erased on request. Written only by
    ``privacy.services.erase_person``; never edited. It names the lead by id
    and pseudonym only: the person's own data is what it was made to remove."""

    # PROTECT: the lead stays, under its pseudonym, with its scores and outcomes.
    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="erasures")
    pseudonym = models.CharField(
        max_length=100, unique=True, help_text="What replaced the person's identifiers."
    )
    request_reference = models.CharField(
        "request",
        max_length=200,
        help_text="Which request this answers: the ticket, letter or email it came by.",
    )
    # PROTECT, as the audit trail's actor: people who leave are deactivated, not deleted.
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    erased_by_name = models.CharField(
        "erased by", max_length=150, help_text="Who erased, by username as it was then."
    )
    erased_at = models.DateTimeField(auto_now_add=True, db_index=True)
    rows = models.JSONField(
        default=dict, help_text="How many rows of each kind were rewritten, by model."
    )
    files = models.PositiveIntegerField(
        default=0, help_text="How many kept import files had rows rewritten."
    )

    class Meta:
        ordering = ["-erased_at", "-id"]
        permissions = [
            ("erase_person", "Can erase a person's data on request"),
            ("export_person", "Can export everything held about a person"),
        ]

    def __str__(self) -> str:
        return f"{self.pseudonym} ({self.request_reference})"
