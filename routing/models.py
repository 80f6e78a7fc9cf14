"""Queues, SDR memberships, SLA policies and calendars, assignments."""

from __future__ import annotations

from datetime import datetime, time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from handoff.changes import change_marker_field
from handoff.notices.webhooks import validate_webhook_url
from handoff.reports.models import BaseChangedPeriod, BaseRollupState
from leads.models import Lead, LeadSource
from routing.calendar import WorkingTime


class BusinessCalendar(models.Model):
    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(
        max_length=64, default="UTC", help_text="IANA name, e.g. Europe/Berlin."
    )
    working_days = models.JSONField(
        default=list, help_text="Weekdays worked, Monday = 0: [0, 1, 2, 3, 4]."
    )
    day_start = models.TimeField(default=time(9))
    day_end = models.TimeField(default=time(17))

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from zoneinfo import available_timezones

        if self.time_zone not in available_timezones():
            raise ValidationError({"time_zone": f"Unknown time zone {self.time_zone!r}."})
        if (
            not isinstance(self.working_days, list)
            or not self.working_days
            or not all(isinstance(d, int) and 0 <= d <= 6 for d in self.working_days)
        ):
            raise ValidationError(
                {"working_days": "Give weekdays 0 (Monday) to 6, e.g. [0, 1, 2, 3, 4]."}
            )
        if self.day_start >= self.day_end:
            raise ValidationError({"day_end": "The working day must end after it starts."})

    def working_time(self) -> WorkingTime:
        return WorkingTime(
            time_zone=self.time_zone,
            weekdays=frozenset(self.working_days),
            day_start=self.day_start,
            day_end=self.day_end,
            holidays=frozenset(self.holidays.values_list("date", flat=True)),
        )


class Holiday(models.Model):
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["calendar", "date"], name="one_holiday_per_calendar_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class SLAPolicy(models.Model):
    """How fast the first touch must come, and what happens when it does not."""

    name = models.CharField(max_length=100, unique=True)
    first_touch_minutes = models.PositiveIntegerField(
        help_text="Time to first touch, e.g. 120 for two hours."
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="Count only business hours of this calendar (empty: plain hours).",
    )
    remind_at_percent = models.PositiveSmallIntegerField(
        default=75, help_text="Remind the SDR when this share of the time has passed."
    )
    reassign_after_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="After a breach, reassign once this grace period has passed (empty: never).",
    )
    escalate_to_manager = models.BooleanField(
        default=True, help_text="Tell the queue's manager about each breach."
    )

    class Meta:
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        unit = "business minutes" if self.calendar_id else "minutes"
        return f"{self.name} ({self.first_touch_minutes} {unit})"


class Strategy(models.TextChoices):
    ROUND_ROBIN = "round_robin", "Round robin"
    WEIGHTED = "weighted", "Weighted round robin"
    LEAST_LOADED = "least_loaded", "Least loaded"
    ACCOUNT_OWNER_FIRST = "account_owner_first", "Account owner first, then round robin"


class Queue(models.Model):
    """Where MQLs wait for an SDR. The first queue (by priority) whose every
    criterion matches takes the lead; empty criteria match everything."""

    name = models.CharField(max_length=100, unique=True)
    priority = models.PositiveIntegerField(default=100, help_text="Lower is tried first.")
    is_active = models.BooleanField(default=True)
    sources = models.ManyToManyField(
        LeadSource, blank=True, related_name="+", help_text="Only leads from these sources."
    )
    activity_kinds = models.JSONField(
        default=list,
        blank=True,
        help_text="Only leads with one of these activities in the last 30 days, e.g. "
        '["demo_request"].',
    )
    countries = models.JSONField(
        default=list, blank=True, help_text='Only leads from these countries, e.g. ["US", "CA"].'
    )
    min_employees = models.PositiveIntegerField(null=True, blank=True)
    max_employees = models.PositiveIntegerField(null=True, blank=True)
    named_accounts_only = models.BooleanField(
        default=False, help_text="Only leads of named/target accounts."
    )
    fallback = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Where a lead goes when nobody here can take it.",
    )
    sla_policy = models.ForeignKey(SLAPolicy, on_delete=models.PROTECT, related_name="queues")
    hand_raise_sla_minutes = models.PositiveIntegerField(
        "hand-raise SLA (minutes)",
        null=True,
        blank=True,
        help_text=(
            "Optional: the first-touch time for hand-raisers (a demo request, contact sales), "
            "in the SLA policy's business minutes when it has a calendar. Empty: the policy's."
        ),
    )
    strategy = models.CharField(
        max_length=30, choices=Strategy.choices, default=Strategy.ROUND_ROBIN
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_queues",
    )
    chat_webhook_url = models.CharField(
        max_length=500,
        blank=True,
        validators=[validate_webhook_url],
        help_text=(
            "Optional: a Slack or Microsoft Teams incoming webhook for the queue's chat "
            "notices, used for members who asked for chat and gave no webhook of their own."
        ),
    )

    class Meta:
        ordering = ["priority", "name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """An SDR working a queue."""

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="memberships")
    sdr = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="queue_memberships"
    )
    capacity = models.PositiveIntegerField(default=25, help_text="Most open MQLs at once.")
    weight = models.PositiveIntegerField(default=1, help_text="Share for weighted routing.")
    away_until = models.DateTimeField(
        null=True, blank=True, help_text="Away (skipped) until this moment."
    )
    is_active = models.BooleanField(default=True)
    # The round robin's tally, never lowered: leads given, plus the turns let
    # pass while away and the level a (re)joining member starts at, so round
    # robin stays fair as members come, go and come back (capacity.keep_pace).
    assigned_count = models.PositiveIntegerField(default=0, editable=False)
    # How many of this queue's assignments are open with this SDR now. Kept by
    # the routing services in the transaction that opens or closes one, under
    # this row's lock, so routing reads the load in O(1) instead of counting
    # assignments; the SLA watcher's pass repairs any drift (repair_open_counts).
    open_count = models.PositiveIntegerField(
        default=0, editable=False, help_text="Open MQLs with this SDR in this queue."
    )

    class Meta:
        ordering = ["queue", "sdr__username"]
        constraints = [
            models.UniqueConstraint(fields=["queue", "sdr"], name="one_membership_per_queue")
        ]

    def __str__(self) -> str:
        return f"{self.sdr} in {self.queue}"


class AssignmentStatus(models.TextChoices):
    WAITING = "waiting", "Waiting for an SDR"
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    RECYCLED = "recycled", "Recycled"
    REASSIGNED = "reassigned", "Reassigned"


OPEN_STATUSES = (AssignmentStatus.WAITING, AssignmentStatus.OPEN)

# The first-touch SLA's words, as conditions on an assignment (the SLA page
# and its rollup count with them; routing.reports.queries says what each means).
BREACHED = models.Q(breached_at__isnull=False) | models.Q(first_touch_at__gt=models.F("due_at"))
TOUCHED_LATE = models.Q(first_touch_at__gt=models.F("due_at"))
TOUCHED = models.Q(first_touch_at__isnull=False, assigned_at__isnull=False)
TIME_TO_FIRST_TOUCH = models.F("first_touch_at") - models.F("assigned_at")


class AssignmentQuerySet(models.QuerySet):
    """Assignments in the SLA's words."""

    def open(self) -> AssignmentQuerySet:
        """With an SDR, or waiting for one."""
        return self.filter(status__in=OPEN_STATUSES)

    def due_between(self, since: datetime | None, until: datetime | None) -> AssignmentQuerySet:
        """Deadlines from ``since`` (included) to ``until`` (excluded); None: unbounded."""
        # "status IN (every status)" changes no result, but it lets PostgreSQL
        # read the deadline range from the (status, due_at) and (sdr, status,
        # due_at) indexes instead of scanning every assignment ever made.
        queryset = self.filter(status__in=AssignmentStatus.values)
        if since is not None:
            queryset = queryset.filter(due_at__gte=since)
        if until is not None:
            queryset = queryset.filter(due_at__lt=until)
        return queryset

    def with_outcome(self, *, now: datetime) -> AssignmentQuerySet:
        """Deadlines whose outcome is known: passed, touched or marked breached.
        One still ahead and untouched counts nowhere yet."""
        return self.filter(
            models.Q(due_at__lte=now)
            | models.Q(first_touch_at__isnull=False)
            | models.Q(breached_at__isnull=False)
        )

    def breached(self) -> AssignmentQuerySet:
        return self.filter(BREACHED)

    def touched(self) -> AssignmentQuerySet:
        return self.filter(TOUCHED)

    def sla_counts(self) -> AssignmentQuerySet:
        """Per group of a ``values()`` query: deadlines due, breached, touched
        late and touched."""
        return self.annotate(**sla_count_aggregates())


def sla_count_aggregates() -> dict[str, models.Aggregate]:
    """The SLA's counts, for ``annotate`` or ``aggregate``."""
    return {
        "due": models.Count("pk"),
        "breached": models.Count("pk", filter=BREACHED),
        "touched_late": models.Count("pk", filter=TOUCHED_LATE),
        "touched": models.Count("pk", filter=TOUCHED),
    }


class Assignment(models.Model):
    """An MQL handed to a queue and (once someone can take it) to an SDR."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="assignments")
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="assignments")
    sdr = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assignments",
    )
    status = models.CharField(max_length=20, choices=AssignmentStatus.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    remind_at = models.DateTimeField(null=True, blank=True)
    first_touch_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    reassigned_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    why = models.JSONField(default=dict, help_text="Why this queue and this SDR.")
    waiting_reason = models.CharField(max_length=300, blank=True)
    change_xid = change_marker_field()

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="one_open_assignment_per_lead",
                violation_error_message="This lead already has an open assignment.",
            )
        ]
        indexes = [
            models.Index(fields=["change_xid", "id"], name="assignment_change_feed"),
            models.Index(fields=["sdr", "status", "due_at"]),
            models.Index(fields=["queue", "status"]),
            models.Index(fields=["status", "due_at"]),
            # The SLA page reads future deadlines only once they have an
            # outcome (touched or breached): a few, out of a day's worth.
            models.Index(
                fields=["due_at"],
                name="assignment_due_with_outcome",
                condition=models.Q(first_touch_at__isnull=False)
                | models.Q(breached_at__isnull=False),
            ),
            # Open MQLs by age on the SLA page, counted from this index alone.
            models.Index(
                fields=["created_at"],
                include=["status", "queue", "sdr"],
                name="assignment_open_by_age",
                condition=models.Q(status__in=OPEN_STATUSES),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead} to {self.sdr or self.queue}"


class Touch(models.Model):
    """Something an SDR did with an assignment: each one counts as a touch."""

    class Kind(models.TextChoices):
        ACCEPT = "accept", "Accepted"
        REJECT = "reject", "Rejected"
        RECYCLE = "recycle", "Recycled"
        CALL = "call", "Call"
        EMAIL = "email", "Email"

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="touches")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # PROTECT, as the audit trail's actor: people who leave are deactivated, not deleted.
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    by_name = models.CharField(
        max_length=150,
        blank=True,
        db_default="",
        help_text="Who touched it, by username as it was then.",
    )
    at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=40, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "touches"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.assignment_id}"

    @property
    def who(self) -> str:
        """The SDR's name as it was."""
        return self.by_name


class SLADay(models.Model):
    """The first-touch SLA outcome of one day's deadlines (``due_at`` in the
    site's time zone) for one queue and SDR: what the manager's SLA page
    reads instead of every assignment. Written only by
    ``routing.services.sla_rollup``, which recomputes whole days from the
    assignments; ``routing.reports.queries`` says what each number means."""

    day = models.DateField()
    # No indexes of their own: every read narrows by day first, and fewer
    # indexes keep the rewrite of a day cheap.
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="+", db_index=False)
    sdr = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    due = models.PositiveIntegerField()
    breached = models.PositiveIntegerField()
    touched_late = models.PositiveIntegerField()
    touched = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["day"], name="sladay_day")]

    def __str__(self) -> str:
        return f"{self.day}: {self.breached}/{self.due} breached"


class SLAFirstTouch(models.Model):
    """How many of one day's deadlines (for one queue and SDR) were first
    touched this many whole minutes (rounded) after assignment: the median
    first touch is read off these counts."""

    day = models.DateField()
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="+", db_index=False)
    sdr = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    minutes = models.PositiveIntegerField()
    touches = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["day"], name="slafirsttouch_day")]

    def __str__(self) -> str:
        return f"{self.day}: {self.touches} after {self.minutes} min"


class SLARollupState(BaseRollupState):
    """The SLA rollup's state row: it holds every deadline before
    ``refreshed_at``, by day in ``time_zone``."""


class SLAChangedDay(BaseChangedPeriod):
    """A day whose passed deadlines changed after the SLA rollup counted them
    (a late first touch, a breach marked late): the next refresh recomputes it."""

    period_field = "day"
    day = models.DateField(unique=True)
