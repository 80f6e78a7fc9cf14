"""What sales decided and what came of it, and the recalibrations it feeds."""

from django.conf import settings
from django.db import models

from leads.models import Lead
from scoring.models import ScoringModel


class SQLQualification(models.Model):
    """The SDR's record that a SAL is a sales-qualified lead (BANT)."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="sql_qualifications")
    budget = models.CharField(max_length=300, help_text="Budget: what they can spend, and when.")
    authority = models.CharField(max_length=300, help_text="Authority: who decides and signs.")
    need = models.CharField(max_length=300, help_text="Need: the problem they must solve.")
    timeline = models.CharField(max_length=300, help_text="Timeline: when they will decide.")
    qualified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    qualified_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-qualified_at"]
        verbose_name = "SQL qualification"

    def __str__(self) -> str:
        return f"SQL: {self.lead}"


class Opportunity(models.Model):
    """An opportunity in the CRM, pushed through the API and keyed by the CRM's id."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    crm_id = models.CharField("CRM id", max_length=100, unique=True)
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="opportunities")
    name = models.CharField(max_length=200, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_on = models.DateField(help_text="When the opportunity was created in the CRM.")
    closed_on = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_on", "-id"]
        verbose_name_plural = "opportunities"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="open") | models.Q(closed_on__isnull=False),
                name="closed_opportunity_has_close_date",
                violation_error_message="A won or lost opportunity needs its close date.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name or self.crm_id} ({self.get_status_display()})"


class Recalibration(models.Model):
    """One run of learning a scorecard from outcomes, proposing a draft version."""

    class Source(models.TextChoices):
        HANDOFFS = "handoffs", "Hand-off snapshots and what sales decided"
        HISTORY = "history", "Imported leads with a known outcome"

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", "Accepted by an SDR (SAL)"
        SQL = "sql", "Became an SQL"
        WON = "won", "Won"
        KNOWN = "known", "Known outcome of an imported list"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        PROPOSED = "proposed", "Proposed a draft"
        REFUSED = "refused", "Refused: not enough evidence"
        FAILED = "failed", "Failed"

    source = models.CharField(max_length=20, choices=Source.choices, default=Source.HANDOFFS)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.ACCEPTED)
    target_acceptance = models.DecimalField(max_digits=4, decimal_places=2, default=0.65)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    step = models.CharField(max_length=200, blank=True)
    based_on = models.ForeignKey(ScoringModel, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", help_text="The live version when it ran.")
    proposal = models.ForeignKey(ScoringModel, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", help_text="The draft it wrote.")
    report = models.JSONField(default=dict, blank=True,
                              help_text="Counts, AUCs, points old and new, proposed rules.")
    message = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Recalibration #{self.pk} ({self.get_status_display()})"
