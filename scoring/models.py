"""Scoring models (versioned), their rules, and the scores they give leads.

Points are whole numbers on rules; scores are kept in hundredths of a point
because decay makes fractions. Both scoring paths (one lead in Python, many in
SQL) compute every term in integer hundredths, so they agree to the last digit.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models

from handoff.changes import change_marker_field
from handoff.jobs import Job
from leads.models import Account, Activity, Lead, LeadSource, activity_kind_validator


class ModelStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for approval"
    APPROVED = "approved", "Approved"
    PUBLISHED = "published", "Published (live)"
    ARCHIVED = "archived", "Archived"


class ScoringModel(models.Model):
    """One version of the MQL definition. Exactly one version is live."""

    name = models.CharField(max_length=200)
    version = models.PositiveIntegerField(unique=True, editable=False)
    status = models.CharField(
        max_length=20, choices=ModelStatus.choices, default=ModelStatus.DRAFT, editable=False
    )
    based_on = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        editable=False,
        related_name="derived_versions",
    )
    notes = models.TextField(blank=True, help_text="What changed in this version, and why.")

    threshold = models.IntegerField(default=75, help_text="MQL when the total reaches this.")
    min_fit = models.IntegerField(
        default=10, help_text="…and the fit score (demographic + firmographic) reaches this…"
    )
    min_engagement = models.IntegerField(
        default=10, help_text="…and the engagement score reaches this."
    )
    grade_a_min = models.IntegerField("grade A from fit", default=30)
    grade_b_min = models.IntegerField("grade B from fit", default=15)
    grade_c_min = models.IntegerField("grade C from fit", default=0)

    fit_floor = models.IntegerField(default=-100)
    fit_ceiling = models.IntegerField(default=100)
    engagement_floor = models.IntegerField(default=-100)
    engagement_ceiling = models.IntegerField(default=100)
    total_floor = models.IntegerField(default=-100)
    total_ceiling = models.IntegerField(default=200)

    # Account (ABM) scoring: when an account is a marketing qualified account (MQA).
    account_contact_cap = models.PositiveIntegerField(
        "most engagement one contact adds to its account",
        default=40,
        help_text="So that one very busy contact cannot qualify an account alone.",
    )
    account_engaged_at = models.IntegerField(
        "contact counts as engaged from",
        default=10,
        help_text="A contact is engaged when its engagement score reaches this.",
    )
    account_min_fit = models.IntegerField(
        "MQA: minimum account fit",
        default=0,
        help_text="The firmographic points of the account itself.",
    )
    account_min_engagement = models.IntegerField(
        "MQA: minimum account engagement",
        default=60,
        help_text="The sum of its contacts' engagement, each capped.",
    )
    account_min_engaged_contacts = models.PositiveIntegerField(
        "MQA: minimum engaged contacts",
        default=2,
    )
    account_min_coverage = models.PositiveSmallIntegerField(
        "MQA: minimum buying-committee coverage (%)",
        default=50,
        validators=[MaxValueValidator(100)],
        help_text="The share of committee roles that engaged contacts fill.",
    )

    eligible_sources = models.ManyToManyField(
        LeadSource,
        blank=True,
        related_name="+",
        help_text="Leads from these sources may become MQLs under this version.",
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-version"]
        permissions = [
            ("approve_scoringmodel", "Can approve a submitted scoring model version"),
            ("publish_scoringmodel", "Can publish an approved scoring model version"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="published"),
                name="one_live_scoring_model",
                violation_error_message="Only one scoring model version can be live.",
            )
        ]

    def __str__(self) -> str:
        return f"v{self.version} {self.name} ({self.get_status_display()})"

    @property
    def is_editable(self) -> bool:
        """Only drafts change; a submitted version goes back to draft to be edited."""
        return self.status == ModelStatus.DRAFT


class Layer(models.TextChoices):
    DEMOGRAPHIC = "demographic", "Demographic fit"
    FIRMOGRAPHIC = "firmographic", "Firmographic fit"
    ENGAGEMENT = "engagement", "Engagement"
    DISQUALIFIER = "disqualifier", "Disqualifier"


FIT_LAYERS = (Layer.DEMOGRAPHIC, Layer.FIRMOGRAPHIC)


class Operator(models.TextChoices):
    EQUALS = "equals", "equals (case-insensitive)"
    IN = "in", "is one of (case-insensitive)"
    CONTAINS = "contains", "contains (case-insensitive)"
    CONTAINS_ANY = "contains_any", "contains any of (words and phrases)"
    STARTS_WITH = "starts_with", "starts with (words and phrases)"
    REGEX = "regex", "advanced: matches a regular expression (case-insensitive)"
    GT = "gt", ">"
    GTE = "gte", "≥"
    LT = "lt", "<"
    LTE = "lte", "≤"
    BETWEEN = "between", "between (inclusive)"
    IS_SET = "is_set", "is set"
    IS_TRUE = "is_true", "is true"
    WITHIN_DAYS = "within_days", "within the last N days"
    AGE_DAYS = "age_days", "a date between N and M days old"


class Rule(models.Model):
    """One rule of a scoring model version.

    Fit rules and condition disqualifiers test one field of the lead or its
    account. Engagement rules (and activity disqualifiers) match activities by
    kind, URL pattern and property conditions, inside a look-back window.
    """

    model = models.ForeignKey(ScoringModel, on_delete=models.CASCADE, related_name="rules")
    layer = models.CharField(max_length=20, choices=Layer.choices)
    name = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)

    field = models.CharField(
        max_length=120,
        blank=True,
        help_text="Lead field (title, seniority, email_domain…), account.<field> "
        "(account.employee_count…) or attributes.<name> for imported columns.",
    )
    operator = models.CharField(max_length=20, choices=Operator.choices, blank=True)
    value = models.JSONField(
        null=True,
        blank=True,
        help_text='JSON: "VP" for equals, ["CEO", "CTO"] for is one of, ["VP", "head of"] '
        "for contains any of and starts with, 500 for ≥, [10, 50] for between, 90 for "
        "within the last N days; empty for is set / is true.",
    )
    points = models.IntegerField(default=0, help_text="May be negative.")
    # NULL, not "", when there is none: a rule without a description then
    # leaves no trace of the field in its audit diff.
    description = models.CharField(  # noqa: DJ001
        max_length=300,
        null=True,
        blank=True,
        help_text="Required with a regular expression (the advanced operator, a URL "
        "pattern): what it matches, in words, as it reads after the field (“names a "
        "senior role: chief, VP, head…”) or after the activity (“on a careers page”). "
        "The definition page shows it instead of the pattern.",
    )

    activity_kinds = models.JSONField(
        default=list, blank=True, help_text='Engagement: the activity kinds, e.g. ["demo_request"].'
    )
    url_pattern = models.CharField(
        max_length=300,
        blank=True,
        help_text="Engagement: a regular expression the activity URL must match.",
    )
    property_conditions = models.JSONField(
        default=list,
        blank=True,
        help_text='Engagement: [{"key": "plan", "operator": "equals", "value": "team"}]',
    )
    window_days = models.PositiveIntegerField(
        default=90, help_text="Engagement: only activities of the last N days count."
    )
    cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="Engagement: at most this many points from this rule."
    )
    half_life_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Engagement: an activity's points halve every N days (empty: no decay).",
    )

    class Meta:
        ordering = ["model", "layer", "position", "id"]

    def __str__(self) -> str:
        return f"{self.get_layer_display()}: {self.name}"

    def clean(self) -> None:
        from scoring.validation import validate_rule

        validate_rule(self)


class LeadScore(models.Model):
    """A lead's current score under the version that gave it.

    A narrow table of its own, with no index but its key and the change
    feed's, so a rescore rewrites small rows. (A score that did not change is
    not rewritten at all; one that did moves in the change feed's index, so it
    is not updated in place (HOT): the price of a feed that never misses one.
    Deleting a version, only ever a draft that scored nobody, scans the table.)
    """

    lead = models.OneToOneField(
        Lead, on_delete=models.CASCADE, primary_key=True, related_name="score"
    )
    model = models.ForeignKey(
        ScoringModel, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    fit = models.DecimalField(max_digits=9, decimal_places=2)
    engagement = models.DecimalField(max_digits=9, decimal_places=2)
    total = models.DecimalField(max_digits=9, decimal_places=2)
    grade = models.CharField(max_length=1)
    disqualified = models.BooleanField()
    qualifies = models.BooleanField(help_text="Meets the MQL definition right now.")
    explanation = models.JSONField()
    # A fingerprint of what the set-wise engine computed this score from
    # (every rule's count and points): a rescore job that finds the same one
    # under the same version leaves the row as it is. NULL when scored one
    # lead at a time, so the next job writes it again.
    basis = models.BigIntegerField(null=True, editable=False)
    scored_at = models.DateTimeField(
        help_text="When this score was last written. A rescore job leaves a score "
        "that did not change as it was."
    )
    change_xid = change_marker_field()

    class Meta:
        indexes = [models.Index(fields=["change_xid", "lead"], name="leadscore_change_feed")]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.total}"


class Crossing(models.TextChoices):
    """How a lead became an MQL."""

    SCORE = "score", "Score"
    HAND_RAISER = "hand_raiser", "Hand-raiser"
    BY_HAND = "by_hand", "Sent to sales by hand"


class MQLSnapshot(models.Model):
    """The score and its explanation at the moment a lead became an MQL, how
    it crossed (its score, a hand-raise, or a person) and which of its
    sources made it eligible.

    Recalibration learns from what sales saw at hand-off, not from what the
    lead did afterwards.
    """

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="mql_snapshots")
    model = models.ForeignKey(ScoringModel, on_delete=models.PROTECT, related_name="+")
    fit = models.DecimalField(max_digits=9, decimal_places=2)
    engagement = models.DecimalField(max_digits=9, decimal_places=2)
    total = models.DecimalField(max_digits=9, decimal_places=2)
    grade = models.CharField(max_length=1)
    explanation = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    # db_default: rows written before these columns, and bulk SQL, need not name them.
    crossing = models.CharField(
        max_length=20, choices=Crossing.choices, default=Crossing.SCORE, db_default=Crossing.SCORE
    )
    crossing_note = models.CharField(
        max_length=500,
        blank=True,
        db_default="",
        help_text="The hand-raise that routed it, or why a person sent it to sales.",
    )
    eligible_source = models.ForeignKey(
        LeadSource,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The source (first or later touch) that made the lead eligible.",
    )
    eligible_since = models.DateTimeField(
        null=True, blank=True, help_text="When the lead first arrived from that source."
    )
    # PROTECT, as the audit trail's actor: people who leave are deactivated, not deleted.
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Who sent the lead to sales by hand; empty when the system did.",
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "MQL snapshot"

    def __str__(self) -> str:
        return f"{self.lead_id} became an MQL at {self.total}"


class HandRaiseKind(models.Model):
    """An activity kind that is a hand-raise: the person asked for sales (a
    demo request, contact sales). An eligible lead who raises a hand is made
    an MQL and routed at once, whatever its score; marketing ops keep the list."""

    kind = models.CharField(
        max_length=50,
        unique=True,
        validators=[activity_kind_validator],
        help_text="The activity kind, e.g. demo_request.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind"]
        verbose_name = "hand-raise kind"

    def __str__(self) -> str:
        return self.kind


class HeldHandRaise(models.Model):
    """A hand-raise the scoring model's disqualifier rules held back (a
    student, a competitor, do-not-contact): not routed, but listed for
    marketing ops, never silently dropped. One row per hand-raise activity."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="held_hand_raises")
    activity = models.OneToOneField(Activity, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=50)
    raised_at = models.DateTimeField()
    rules = models.JSONField(help_text="The disqualifier rules that held it back, by name.")
    model = models.ForeignKey(ScoringModel, on_delete=models.PROTECT, related_name="+")
    held_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-held_at", "-id"]
        verbose_name = "hand-raiser held back"
        verbose_name_plural = "hand-raisers held back"

    def __str__(self) -> str:
        return f"{self.kind} by {self.lead_id}, held back"


class JobStatus(models.TextChoices):
    """A rescore's statuses (values of handoff.jobs.JobStatus): it runs from
    the start, its chunks being its queue."""

    RUNNING = "running", "Running"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled (a newer version went live)"


class RescoreJob(Job):
    """A rescore of many leads, split into chunks of consecutive lead ids that
    any number of workers take one at a time. Progress is counted here.

    Not run by the job kit's runner: each chunk is its own claim (see
    scoring.services.jobs), and the last chunk done closes the job.
    """

    class Reason(models.TextChoices):
        PUBLISH = "publish", "Version published"
        DECAY = "decay", "Scheduled decay"
        MANUAL = "manual", "Started by hand"

    model = models.ForeignKey(ScoringModel, on_delete=models.CASCADE, related_name="jobs")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.RUNNING)
    as_of = models.DateTimeField(help_text="Every lead of the job is scored as of this moment.")
    engaged_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Only leads with activity since then (decay: the others cannot change).",
    )
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    leads_total = models.PositiveIntegerField(default=0)
    leads_scored = models.PositiveIntegerField(default=0)
    scores_changed = models.PositiveIntegerField(
        default=0, help_text="Leads whose score the job changed (the others kept theirs)."
    )
    became_mql = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"Rescore #{self.pk} for v{self.model.version} ({self.get_status_display()})"

    @property
    def progress_done(self) -> int:
        return self.leads_scored

    @property
    def progress_total(self) -> int:
        return self.leads_total


class RescoreChunk(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"

    job = models.ForeignKey(RescoreJob, on_delete=models.CASCADE, related_name="chunks")
    first_lead_id = models.BigIntegerField()
    last_lead_id = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    leads_scored = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["first_lead_id"]
        indexes = [models.Index(fields=["status", "job"])]

    def __str__(self) -> str:
        return f"leads {self.first_lead_id} to {self.last_lead_id}"


# --- Account (ABM) scores -------------------------------------------------------------


class CommitteeRole(models.Model):
    """One role of a version's buying committee (decision maker, champion…).

    An engaged contact fills the role when its title matches ``title_pattern``
    (and its department ``department_pattern``, when one is given). Patterns
    are case-insensitive and must mean the same in Python and PostgreSQL.
    """

    model = models.ForeignKey(
        ScoringModel, on_delete=models.CASCADE, related_name="committee_roles"
    )
    name = models.CharField(max_length=100)
    title_pattern = models.CharField(
        max_length=300,
        help_text="A regular expression the job title must match, e.g. "
        "(^|[^a-z])(cfo|finance)([^a-z]|$). Use [^a-z] rather than \\b.",
    )
    department_pattern = models.CharField(
        max_length=300,
        blank=True,
        help_text="Optional: a regular expression the department must match as well.",
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["model", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "name"],
                name="committee_role_unique_name",
                violation_error_message="This version already has a role of that name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from scoring.validation import check_regex

        check_regex(self.title_pattern, "title_pattern")
        if self.department_pattern:
            check_regex(self.department_pattern, "department_pattern")


class AccountScore(models.Model):
    """An account's current score under the version that gave it, computed
    from its own firmographics and its contacts' stored lead scores.

    Written only by scoring.services.accounts.score_accounts.
    """

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, primary_key=True, related_name="score"
    )
    model = models.ForeignKey(ScoringModel, on_delete=models.CASCADE, related_name="+")
    fit = models.DecimalField(
        max_digits=9, decimal_places=2, help_text="Firmographic points of the account's own fields."
    )
    engagement = models.DecimalField(
        max_digits=11,
        decimal_places=2,
        help_text="Sum of its contacts' engagement, each capped at the version's contact cap.",
    )
    total = models.DecimalField(max_digits=11, decimal_places=2, help_text="Fit + engagement.")
    engaged_contacts = models.PositiveIntegerField()
    coverage = models.PositiveSmallIntegerField(
        "committee coverage (%)",
        help_text="Share of the committee roles filled by engaged contacts, rounded down.",
    )
    roles_filled = models.JSONField(default=list, blank=True)
    disqualified = models.BooleanField(help_text="A disqualifier on the account's fields holds.")
    qualified = models.BooleanField("MQA", help_text="Meets the account (MQA) thresholds now.")
    explanation = models.JSONField()
    scored_at = models.DateTimeField()

    class Meta:
        ordering = ["-qualified", "-total", "account"]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.total}{' (MQA)' if self.qualified else ''}"
