"""What sales decided and what came of it, and the recalibrations it feeds."""

from django.conf import settings
from django.db import models

from handoff.changes import change_marker_field
from handoff.jobs import Job
from handoff.reports.models import BaseChangedPeriod, BaseRollupState
from leads.models import Lead, LeadSource
from routing.models import Queue
from scoring.models import ScoringModel


class SQLQualification(models.Model):
    """The SDR's record that a SAL is a sales-qualified lead (BANT)."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="sql_qualifications")
    budget = models.CharField(max_length=300, help_text="Budget: what they can spend, and when.")
    authority = models.CharField(max_length=300, help_text="Authority: who decides and signs.")
    need = models.CharField(max_length=300, help_text="Need: the problem they must solve.")
    timeline = models.CharField(max_length=300, help_text="Timeline: when they will decide.")
    qualified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
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
    change_xid = change_marker_field()

    class Meta:
        ordering = ["-created_on", "-id"]
        verbose_name_plural = "opportunities"
        indexes = [models.Index(fields=["change_xid", "id"], name="opportunity_change_feed")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="open") | models.Q(closed_on__isnull=False),
                name="closed_opportunity_has_close_date",
                violation_error_message="A won or lost opportunity needs its close date.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name or self.crm_id} ({self.get_status_display()})"


class Recalibration(Job):
    """One run of learning a scorecard from outcomes, proposing a draft version.

    Written only by feedback.recalibration through the job kit.
    """

    task = "feedback.tasks.recalibrate"
    task_id_argument = "run_id"

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
        # Done: a run that succeeds proposes a draft.
        PROPOSED = "done", "Proposed a draft"
        # Refused: too little evidence, or no usable signal (no draft written).
        REFUSED = "refused", "Refused: no draft written"
        FAILED = "failed", "Failed"

    source = models.CharField(max_length=20, choices=Source.choices, default=Source.HANDOFFS)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.ACCEPTED)
    target_acceptance = models.DecimalField(max_digits=4, decimal_places=2, default=0.65)
    min_volume = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=0.05,
        help_text="The least share of leads the proposed threshold must send, so that an "
        "unreachable target never ends in a sliver.",
    )
    max_rules = models.PositiveSmallIntegerField(
        default=15, help_text="The most rules the proposed scorecard may have."
    )
    keep_columns = models.JSONField(
        default=list,
        blank=True,
        help_text="Columns learned from even if the leak guard would leave them out.",
    )
    keep_reason = models.TextField(
        blank=True, help_text="Why the kept columns are known before contact."
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    based_on = models.ForeignKey(
        ScoringModel,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The live version when it ran.",
    )
    proposal = models.ForeignKey(
        ScoringModel,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The draft it wrote.",
    )
    report = models.JSONField(
        default=dict, blank=True, help_text="Counts, AUCs, points old and new, proposed rules."
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"Recalibration #{self.pk} ({self.get_status_display()})"

    @property
    def progress_done(self) -> int:
        return self.progress

    @property
    def progress_total(self) -> int:
        return 100


# --- The weekly rollup the manager's dashboard reads -----------------------------------


class Measure(models.TextChoices):
    """What a WeeklyCount counts. feedback.rollup says exactly how each is counted."""

    MQL = "mql", "MQL crossings"
    ACCEPTED = "accepted", "Hand-offs accepted"
    REJECTED = "rejected", "Hand-offs rejected"
    RECYCLED = "recycled", "Hand-offs recycled"
    SQL = "sql", "SQL qualifications"
    OPPORTUNITY = "opportunity", "Leads entering the opportunity stage"
    WON = "won", "Leads won"
    LOST = "lost", "Leads lost"
    OPPORTUNITIES_CREATED = "opportunities_created", "Opportunities created"
    PIPELINE = "pipeline", "Pipeline created (sum of opportunity amounts)"
    REJECT_REASON = "reject_reason", "Rejections, by reason (key)"
    FIRST_TOUCH = "first_touch", "First touches, by minutes after assignment (key)"
    SCORE_ACCEPTED = "score_accepted", "Accepted hand-offs, by score bucket (key)"
    SCORE_REJECTED = "score_rejected", "Rejected hand-offs, by score bucket (key)"
    RULE_FIRED_DECIDED = "rule_fired_decided", "Decided hand-offs firing a rule (key)"
    RULE_FIRED_ACCEPTED = "rule_fired_accepted", "Accepted hand-offs firing a rule (key)"


class WeeklyCount(models.Model):
    """One number of one week: a measure (and its key, such as a reject reason),
    for one combination of lead source, queue, SDR and model version.

    Written only by feedback.rollup, which recomputes whole weeks from the raw
    rows; the dashboard reads these few rows instead of millions of raw ones.
    A dimension a measure does not have is empty (NULL).
    """

    week = models.DateField(help_text="The Monday the week starts on, in the site's time zone.")
    measure = models.CharField(max_length=30, choices=Measure.choices)
    key = models.CharField(max_length=60, blank=True)
    # No index of their own: every read narrows by (measure, week) first, and
    # the table is small; fewer indexes keep the rewrite of a week cheap.
    source = models.ForeignKey(
        LeadSource, null=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    queue = models.ForeignKey(
        Queue, null=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    sdr = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    model = models.ForeignKey(
        ScoringModel, null=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    value = models.DecimalField(max_digits=18, decimal_places=2)

    class Meta:
        indexes = [models.Index(fields=["measure", "week"], name="weeklycount_measure_week")]

    def __str__(self) -> str:
        return f"{self.week} {self.measure} {self.key}: {self.value}"


class RollupState(BaseRollupState):
    """The weekly rollup's state row: when it was last computed."""


class ChangedWeek(BaseChangedPeriod):
    """A past week whose numbers changed after the fact (an opportunity created
    on an earlier date, say), so the next refresh recomputes it."""

    period_field = "week"
    week = models.DateField(unique=True)
