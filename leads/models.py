"""Accounts, leads, their activity events and their lifecycle history."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower

from handoff.changes import change_marker_field
from handoff.jobs import Job


class Stage(models.TextChoices):
    LEAD = "lead", "Lead"
    NURTURE = "nurture", "Nurture"
    MQL = "mql", "MQL"
    SAL = "sal", "SAL"
    SQL = "sql", "SQL"
    OPPORTUNITY = "opportunity", "Opportunity"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    DISQUALIFIED = "disqualified", "Disqualified"
    RECYCLED = "recycled", "Recycled"


# Which stage may follow which. Anything else is refused by change_stage: the
# lifecycle only moves forward, except recycling and nurture, which may lead
# back to MQL on new engagement.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    Stage.LEAD: frozenset({Stage.NURTURE, Stage.MQL, Stage.DISQUALIFIED}),
    Stage.NURTURE: frozenset({Stage.MQL, Stage.DISQUALIFIED}),
    Stage.MQL: frozenset({Stage.SAL, Stage.NURTURE, Stage.RECYCLED, Stage.DISQUALIFIED}),
    # SAL -> OPPORTUNITY: the CRM can open an opportunity straight from a SAL,
    # before the SDR has recorded the SQL qualification.
    Stage.SAL: frozenset(
        {Stage.SQL, Stage.OPPORTUNITY, Stage.NURTURE, Stage.RECYCLED, Stage.DISQUALIFIED}
    ),
    Stage.SQL: frozenset({Stage.OPPORTUNITY, Stage.LOST, Stage.RECYCLED, Stage.DISQUALIFIED}),
    Stage.OPPORTUNITY: frozenset({Stage.WON, Stage.LOST}),
    Stage.WON: frozenset(),
    Stage.LOST: frozenset({Stage.NURTURE, Stage.RECYCLED}),
    Stage.DISQUALIFIED: frozenset({Stage.NURTURE}),
    Stage.RECYCLED: frozenset({Stage.NURTURE, Stage.MQL, Stage.DISQUALIFIED}),
}


class LeadSource(models.Model):
    """Where leads come from, and whether the inbound model may make them MQLs.

    Event lists, badge scans and cold lists are scored but not MQL-eligible by
    default: those people did not ask to hear from sales.
    """

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    mql_eligible = models.BooleanField(
        default=True, help_text="Leads from this source may become MQLs through the scoring model."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LeadTouch(models.Model):
    """A source a lead arrived from, with when it first did: the first source
    and every later one (a form, the API, an import). A lead may become an MQL
    when any of its touches is from an eligible source, not only its first:
    a person first imported from a cold list who later asks for a demo on the
    website asked to hear from sales. Written by leads.services.record_touches."""

    lead = models.ForeignKey("Lead", on_delete=models.CASCADE, related_name="touches")
    source = models.ForeignKey(LeadSource, on_delete=models.PROTECT, related_name="touches")
    first_seen_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["first_seen_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["lead", "source"], name="lead_touch_once_per_source")
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} from {self.source_id} since {self.first_seen_at:%Y-%m-%d}"


class Account(models.Model):
    name = models.CharField(max_length=200)
    domain = models.CharField(
        max_length=253, unique=True, help_text="Lower-case company domain, without www."
    )
    industry = models.CharField(max_length=100, blank=True)
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    annual_revenue = models.DecimalField(max_digits=15, decimal_places=2, null=True, blank=True)
    country = models.CharField(max_length=100, blank=True)
    last_funding_date = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_accounts",
        help_text="Account owner, for account-based routing.",
    )
    is_target_account = models.BooleanField(
        "named / target account", default=False, help_text="On the named-account (ICP) list."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.domain})"


class AccountDomain(models.Model):
    """Another domain of the account (a brand, a country's domain, an
    acquired company's): its people's leads join the account too."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="other_domains")
    domain = models.CharField(
        max_length=253, unique=True, help_text="Lower-case company domain, without www."
    )

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain

    def clean(self) -> None:
        from leads.domains import is_personal_domain, normalise_domain

        self.domain = normalise_domain(self.domain)
        if is_personal_domain(self.domain):
            raise ValidationError({"domain": "A free-mail or disposable domain names no company."})
        if Account.objects.filter(domain=self.domain).exclude(pk=self.account_id).exists():
            raise ValidationError({"domain": "Another account has this domain."})


class AccountMatch(models.TextChoices):
    """How a lead's email domain found its account."""

    DOMAIN = "domain", "The account's domain"
    OTHER_DOMAIN = "other_domain", "One of the account's other domains"
    PARENT_DOMAIN = "parent_domain", "A subdomain of the account's domain"
    PARENT_OTHER_DOMAIN = "parent_other_domain", "A subdomain of one of the account's other domains"
    NEW = "new", "A new account made for the company domain"


class Lead(models.Model):
    # Unique but optional: historical lists (such as the X Education export)
    # identify people by an external id and carry no email at all. NULL, not
    # "", so that many leads without one do not collide on the unique index.
    email = models.EmailField(max_length=254, null=True, blank=True)  # noqa: DJ001
    external_id = models.CharField(
        max_length=100,
        null=True,
        blank=True,
        unique=True,
        help_text="Identifier in the system the lead came from, when it has no email.",
    )
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=200, blank=True)
    seniority = models.CharField(max_length=50, blank=True)
    department = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    country = models.CharField(max_length=100, blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    account_match = models.CharField(
        max_length=20,
        choices=AccountMatch.choices,
        blank=True,
        default="",
        db_default="",
        help_text="How the email's domain found the account; empty when set by hand.",
    )
    account_matched_domain = models.CharField(
        max_length=253,
        blank=True,
        default="",
        db_default="",
        help_text="The account's domain that the email's domain matched.",
    )
    source = models.ForeignKey(LeadSource, on_delete=models.PROTECT, related_name="leads")
    source_detail = models.CharField(max_length=200, blank=True)
    # Written only by leads.services.change_stage, which records the change.
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.LEAD)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_leads",
    )
    attributes = models.JSONField(
        default=dict, blank=True, help_text="Custom columns that have no field of their own."
    )
    known_outcome = models.BooleanField(
        null=True,
        blank=True,
        help_text="Outcome carried by an imported historical list (converted or not).",
    )
    originated_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=(
            "When the lead was created or first contacted in the system it came from, "
            "as an imported date column says. Recalibration splits history by it."
        ),
    )
    do_not_contact = models.BooleanField(default=False)
    # db_default too: bulk writers that use SQL (benchmarks, COPY) need not name it.
    legal_hold = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Kept as it is for a legal matter: a request to erase this person is refused.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    change_xid = change_marker_field()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="lead_email_unique_ci",
                violation_error_message="A lead with this email already exists.",
            ),
            models.CheckConstraint(
                condition=models.Q(email__isnull=False) | models.Q(external_id__isnull=False),
                name="lead_has_identifier",
                violation_error_message="A lead needs an email or an external id.",
            ),
        ]
        indexes = [
            models.Index(fields=["stage"]),
            models.Index(fields=["country"]),
            models.Index(fields=["change_xid", "id"], name="lead_change_feed"),
        ]

    def __str__(self) -> str:
        return self.email or f"#{self.external_id}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def account_match_text(self) -> str:
        """How the lead joined its account, in words for the lead page."""
        if self.account_id is None:
            return ""
        email = (self.email or "").rpartition("@")[2].lower()
        matched = self.account_matched_domain
        texts = {
            AccountMatch.DOMAIN: f"its email domain, {matched}",
            AccountMatch.OTHER_DOMAIN: (
                f"its email domain, {matched}, another of the account's domains"
            ),
            AccountMatch.PARENT_DOMAIN: f"its email domain {email}, a subdomain of {matched}",
            AccountMatch.PARENT_OTHER_DOMAIN: (
                f"its email domain {email}, a subdomain of {matched}, "
                "another of the account's domains"
            ),
            AccountMatch.NEW: f"its email domain {email}: a new account was made for {matched}",
        }
        if self.account_match in texts:
            return texts[self.account_match]
        # Leads that joined before the match was recorded, or chosen by hand.
        if email and email == self.account.domain:
            return f"its email domain, {email}"
        return "chosen by hand"


class ActivityKind(models.TextChoices):
    """Well-known activity kinds. Activity.kind accepts any slug, so a new kind
    needs no migration; these are the ones the product knows by name."""

    PAGE_VIEW = "page_view", "Page view"
    PRICING_PAGE_VIEW = "pricing_page_view", "Pricing page view"
    FORM_SUBMIT = "form_submit", "Form submit"
    DEMO_REQUEST = "demo_request", "Demo request"
    CONTACT_SALES = "contact_sales", "Contact sales"
    CONTENT_DOWNLOAD = "content_download", "Content download"
    WEBINAR_REGISTRATION = "webinar_registration", "Webinar registration"
    WEBINAR_ATTENDANCE = "webinar_attendance", "Webinar attendance"
    EMAIL_OPEN = "email_open", "Email open"
    EMAIL_CLICK = "email_click", "Email click"
    EMAIL_UNSUBSCRIBE = "email_unsubscribe", "Email unsubscribe"
    # A named event (a CDP's track call) no event mapping gives a kind: kept
    # with its name (Activity.event_name), which the pages show.
    OTHER = "other", "Other"


activity_kind_validator = RegexValidator(
    r"^[a-z][a-z0-9_]{0,49}$",
    "Use a lower-case identifier such as 'pricing_page_view' (letters, digits, underscores).",
)


# A URL is part of the activity index (see Activity.Meta), whose entries
# PostgreSQL limits to about 2,700 bytes: 2,000 characters is only safe as
# long as they are 2,000 bytes, which every percent-encoded URL is.
URL_MAX_BYTES = 2000


def url_fits_index(value: str) -> None:
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > URL_MAX_BYTES:
        raise ValidationError(
            f"Ensure this URL has at most {URL_MAX_BYTES:,} bytes in UTF-8 (it has {size:,}); "
            "percent-encode it or shorten it.",
            code="max_bytes",
        )


class Activity(models.Model):
    # Indexed by the (lead, occurred_at) index below, which starts with it.
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="activities", db_index=False
    )
    kind = models.CharField(max_length=50, validators=[activity_kind_validator])
    url = models.URLField(max_length=2000, blank=True, validators=[url_fits_index])
    properties = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField()
    source_system = models.CharField(max_length=50)
    external_id = models.CharField(
        max_length=200, help_text="The sending system's id for this event; replays are ignored."
    )
    # db_default: the bulk insert and the benchmarks' SQL need not name it.
    event_name = models.CharField(
        max_length=200,
        blank=True,
        db_default="",
        help_text="The sender's own name for the event (a CDP's track event or page name).",
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "activities"
        constraints = [
            models.UniqueConstraint(
                fields=["source_system", "external_id"], name="activity_delivered_once"
            )
        ]
        indexes = [
            # Scoring reads a lead's recent activities from this index alone
            # (an index-only scan): with the kind and URL in it, the activities
            # of a chunk of leads, spread over the whole table, cost a quarter
            # of reading them from the table.
            models.Index(
                fields=["lead", "occurred_at"], include=["kind", "url"], name="activity_lead_recent"
            ),
            # For the sweep that finds events received after their lead's score.
            models.Index(fields=["received_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} by {self.lead_id} at {self.occurred_at:%Y-%m-%d %H:%M}"

    @property
    def kind_label(self) -> str:
        if self.kind == ActivityKind.OTHER and self.event_name:
            return self.event_name
        try:
            return ActivityKind(self.kind).label
        except ValueError:
            return self.kind.replace("_", " ").capitalize()


class EventMapping(models.Model):
    """Which activity kind a CDP's named event is (``track`` calls): "Demo
    Requested" -> demo_request. Events no mapping names are kept as "other",
    with their name."""

    event_name = models.CharField(
        max_length=200,
        unique=True,
        help_text='The event as the CDP sends it, e.g. "Demo Requested".',
    )
    kind = models.CharField(
        max_length=50,
        validators=[activity_kind_validator],
        help_text="The activity kind it is recorded as, e.g. demo_request (scoring tests kinds).",
    )

    class Meta:
        ordering = ["event_name"]

    def __str__(self) -> str:
        return f"{self.event_name} → {self.kind}"


class Identity(models.Model):
    """An id a CDP knows a person by (its user id, or a browser's anonymous
    id), linked to the lead an ``identify`` call named."""

    class Kind(models.TextChoices):
        USER_ID = "user_id", "User id"
        ANONYMOUS_ID = "anonymous_id", "Anonymous id"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    value = models.CharField(max_length=200)
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="identities")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "identities"
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="identity_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value} → {self.lead_id}"


class HeldEvent(models.Model):
    """A CDP's event sent under an id no lead has yet (an anonymous visitor):
    held here, and recorded on the lead once an ``identify`` links the id."""

    user_id = models.CharField(max_length=200, blank=True)
    anonymous_id = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=50)
    event_name = models.CharField(max_length=200, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    properties = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField()
    message_id = models.CharField(max_length=200, unique=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(fields=["anonymous_id"], name="heldevent_anonymous"),
            models.Index(fields=["user_id"], name="heldevent_user"),
        ]

    def __str__(self) -> str:
        return f"{self.event_name or self.kind} by {self.anonymous_id or self.user_id}"


class StageChange(models.Model):
    """One lifecycle move. Rows are only ever added: history is never rewritten."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=20, choices=Stage.choices)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    # PROTECT, as the audit trail's actor: people who leave are deactivated, not deleted.
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="Empty when the system made the change (scoring, routing, a task).",
    )
    changed_by_name = models.CharField(
        max_length=150,
        blank=True,
        db_default="",
        help_text="Who made the change, by username as it was then; empty for the system.",
    )
    changed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    reason = models.CharField(max_length=500, blank=True)
    # A move a merge made: the survivor taking the further stage the duplicate
    # had reached. That crossing is already in the duplicate's own rows (moved
    # to the survivor too), so the dashboard's rollup does not count it again.
    by_merge = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Made by a merge: the survivor took the further stage of the duplicate.",
    )

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.from_stage} → {self.to_stage}"

    @property
    def who(self) -> str:
        """The actor's name as it was, or "system"."""
        return self.changed_by_name or "system"


class LeadMerge(models.Model):
    """Record of a duplicate lead folded into a survivor (the duplicate row is gone)."""

    survivor = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="merges")
    merged_lead_id = models.BigIntegerField()
    merged_email = models.CharField(max_length=254, blank=True)
    merged_snapshot = models.JSONField(help_text="The duplicate's fields at the time of merging.")
    activities_moved = models.PositiveIntegerField()
    # PROTECT, as the audit trail's actor: people who leave are deactivated, not deleted.
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT)
    merged_by_name = models.CharField(
        max_length=150,
        blank=True,
        db_default="",
        help_text="Who merged, by username as it was then; empty for the system.",
    )
    merged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-merged_at"]

    def __str__(self) -> str:
        return f"#{self.merged_lead_id} merged into {self.survivor_id}"

    @property
    def who(self) -> str:
        """The actor's name as it was, or "system"."""
        return self.merged_by_name or "system"


class DuplicateReason(models.TextChoices):
    # In the order the search tries them: a pair is kept with the first that matched.
    MAILBOX = "mailbox", "Same mailbox written differently"
    PHONE = "phone", "Same phone number and last name"
    NAME_AT_COMPANY = "name_at_company", "Same name at the same company domain"


class DuplicateCandidate(models.Model):
    """Two leads that look like one person, found by
    ``leads.duplicates.find_duplicate_candidates``; marketing ops merge them
    (choosing the survivor) or dismiss them. A dismissed pair is kept, so it
    is never proposed again. ``first`` is always the lower id."""

    first = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=20, choices=DuplicateReason.choices)
    matched_on = models.CharField(
        max_length=300, help_text="The value both leads share, once normalised."
    )
    found_at = models.DateTimeField(auto_now_add=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dismissed_by_name = models.CharField(max_length=150, blank=True, db_default="")

    class Meta:
        ordering = ["-found_at", "-id"]
        verbose_name = "duplicate candidate"
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="duplicate_pair_once"),
            models.CheckConstraint(
                condition=models.Q(first__lt=models.F("second")), name="duplicate_pair_ordered"
            ),
        ]
        indexes = [
            # The list shows the pairs still to decide, newest first.
            models.Index(
                fields=["-found_at"],
                condition=models.Q(dismissed_at__isnull=True),
                name="duplicate_open",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.first_id} and #{self.second_id}: {self.get_reason_display()}"


class ImportJob(Job):
    """One CSV lead import started from the admin, run by a worker.

    Written only by leads.importing through the job kit: queued by
    ``start_import``, claimed once (queued -> running) by the task, finished
    as done, refused (bad file or rows, nothing written) or failed (an
    unexpected error, nothing written).
    """

    task = "leads.tasks.run_import"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        REFUSED = "refused", "Refused"

    file = models.FileField(upload_to="imports/")
    # The name the file had when uploaded: storage may rename it, and the leads
    # of a file without an identifier column are known by it and their line.
    original_name = models.CharField(max_length=255, blank=True)
    mapping = models.JSONField(help_text="The mapping applied, as it was when the job started.")
    skip_invalid = models.BooleanField(
        default=False, help_text="Import the good rows and skip the bad ones (else: nothing)."
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    errors = models.JSONField(
        default=list, blank=True, help_text="Bad rows and refusals: [{line, column, message}]."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    def __str__(self) -> str:
        return f"Import #{self.pk} ({self.original_name or self.file_name})"

    @property
    def file_name(self) -> str:
        return self.file.name.rpartition("/")[2] if self.file else ""

    @property
    def progress_done(self) -> int:
        return self.rows_processed

    @property
    def progress_total(self) -> int | None:
        return self.rows_total


class ImportMapping(models.Model):
    """A mapping saved by name in the import wizard, to import the next file
    of the same kind in one step. ``mapping`` is the JSON format of
    leads.importing.mapping, the same that ``import_leads --mapping`` reads."""

    name = models.CharField(max_length=100, unique=True)
    mapping = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
