"""The audit trail, shared by every app: who changed what, from what to what."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models

from handoff.notices.webhooks import validate_webhook_url


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
    WEBHOOKS_MANAGE = "webhooks:manage", "Manage webhook endpoints (add, change, rotate secrets)"
    EVENTS_WRITE = (
        "events:write",
        "Send a CDP's calls (Segment spec: identify, track, page, batch): "
        "creates and updates leads and records their activities",
    )


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


# --- Notices to people ----------------------------------------------------------------


class NoticeKind(models.TextChoices):
    """What a notice is about. Apps announce these through handoff.notices.notify."""

    ASSIGNED = "assigned", "A new MQL is assigned to me"
    REMINDER = "reminder", "A first touch falls due soon"
    BREACH = "breach", "The SLA of one of my MQLs was breached"
    ESCALATION = "escalation", "An SLA breach in a queue I manage"
    REASSIGNED = "reassigned", "An MQL of mine went to someone else"
    APPROVAL = "approval", "A scoring model version awaits my approval"
    DIGEST = "digest", "The weekly digest of acceptance, breaches and the funnel"
    ALERT = "alert", "An alert of the manager's dashboard"
    WEBHOOK_DISABLED = "webhook_disabled", "A webhook endpoint was disabled after failing for days"


class Channel(models.TextChoices):
    APP = "app", "In the app"
    EMAIL = "email", "Email"
    CHAT = "chat", "Chat"


class Delivery(models.TextChoices):
    """Where one channel of a notice stands. Only pending ones are sent, and a
    channel is marked sent right after it went out, so it is sent once."""

    NOT_WANTED = "", "Not wanted"
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Notice(models.Model):
    """A notice to one person: in the app, and an outbox row for its email and
    chat message. Written only by handoff.notices.services.notify, inside the
    transaction of the change it reports; delivered after commit by
    handoff.notices.delivery."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices"
    )
    kind = models.CharField(max_length=20, choices=NoticeKind.choices)
    text = models.CharField(max_length=300)
    link = models.CharField(max_length=300, blank=True, help_text="A path on this site.")
    # What the notice is about ("assignment:42"): with the user and the kind,
    # it makes a notice of the same event once only.
    about = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    in_app = models.BooleanField(default=True, help_text="Shown in the app's list of notices.")
    email = models.CharField(max_length=10, choices=Delivery.choices, blank=True)
    chat = models.CharField(max_length=10, choices=Delivery.choices, blank=True)
    chat_url = models.CharField(
        max_length=500, blank=True, help_text="The webhook the chat message goes to."
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # A worker delivering the notice holds it from this moment; a claim older
    # than the delivery timeout belongs to a worker that died.
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "about"],
                condition=~models.Q(about=""),
                name="one_notice_per_person_and_event",
            )
        ]
        indexes = [
            # The unread count and the list, on every SDR page.
            models.Index(
                fields=["user", "-created_at"],
                condition=models.Q(read_at__isnull=True, in_app=True),
                name="notice_unread",
            ),
            # The sweep's search for what is still to send.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(email="pending") | models.Q(chat="pending"),
                name="notice_undelivered",
            ),
        ]

    def __str__(self) -> str:
        return self.text


class NoticePreferences(models.Model):
    """How one person wants each kind of notice: a list of channels per kind.
    A kind missing from ``channels`` takes the default
    (handoff.notices.services.DEFAULT_CHANNELS)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_preferences"
    )
    channels = models.JSONField(default=dict, blank=True, help_text='{"assigned": ["app"]}')
    chat_url = models.CharField(
        max_length=500,
        blank=True,
        validators=[validate_webhook_url],
        help_text="A Slack or Microsoft Teams incoming webhook.",
    )

    class Meta:
        verbose_name_plural = "notice preferences"

    def __str__(self) -> str:
        return f"Notice preferences of {self.user}"


# --- Outgoing webhooks: the outbox and its subscribers --------------------------------


class EventType(models.TextChoices):
    """What an outgoing event reports: stable names receivers switch on.
    Apps record them through handoff.webhooks.outbox.record_event."""

    LEAD_MQL = "lead.mql", "A lead became an MQL"
    LEAD_ASSIGNED = "lead.assigned", "An MQL was assigned to an SDR"
    LEAD_REASSIGNED = "lead.reassigned", "An MQL was reassigned"
    MQL_ACCEPTED = "mql.accepted", "An SDR accepted an MQL"
    MQL_REJECTED = "mql.rejected", "An SDR rejected an MQL (with the reason)"
    MQL_RECYCLED = "mql.recycled", "An MQL was recycled to marketing"
    LEAD_SQL = "lead.sql", "An SDR qualified a lead as SQL (with BANT)"
    SLA_REMINDER = "sla.reminder", "A first touch falls due soon"
    SLA_BREACHED = "sla.breached", "An MQL's SLA was breached"
    ACCOUNT_MQA = "account.mqa", "An account became an MQA"
    MODEL_PUBLISHED = "model.published", "A scoring model version was published"
    OPPORTUNITY_WON = "opportunity.won", "An opportunity was won"
    OPPORTUNITY_LOST = "opportunity.lost", "An opportunity was lost"
    # Sent to one endpoint on request, never subscribed to.
    TEST = "webhook.test", "A test event"


SUBSCRIBABLE_EVENT_TYPES = [
    (value, label) for value, label in EventType.choices if value != "webhook.test"
]


class OutboxEvent(models.Model):
    """Something that happened, recorded in the transaction of the change
    (the outbox): its type, its message id and the state of the objects it
    concerns, as the app that knows them built it. Never changed."""

    id = models.BigAutoField(primary_key=True)
    message_id = models.CharField(max_length=40, unique=True, editable=False)
    type = models.CharField(max_length=40, choices=EventType.choices)
    occurred_at = models.DateTimeField()
    data = models.JSONField()
    # The id of the transaction that recorded it: events are sent in this
    # order, and only once every older transaction has ended, so an event
    # committed late can never arrive after a younger one (handoff.webhooks.delivery).
    txid = models.BigIntegerField(editable=False)

    class Meta:
        ordering = ["-id"]
        verbose_name = "outgoing event"

    def __str__(self) -> str:
        return f"{self.type} {self.message_id}"


class SubscriberKind(models.TextChoices):
    """Who takes events from the outbox. A CRM connector becomes one more kind
    with a sender of its own (handoff.webhooks.delivery.SENDERS)."""

    WEBHOOK = "webhook", "Webhook"


class EndpointStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    DISABLED = "disabled", "Disabled (failing)"


class WebhookEndpoint(models.Model):
    """A receiver of outgoing events: where they go, which types it wants,
    and the secret their signatures are made with. Written only through
    handoff.webhooks.services."""

    kind = models.CharField(
        max_length=20, choices=SubscriberKind.choices, default=SubscriberKind.WEBHOOK
    )
    name = models.CharField(max_length=100, help_text='Who receives it, e.g. "Data warehouse".')
    url = models.URLField(max_length=500, help_text="An https:// address that takes a POST.")
    event_types = models.JSONField(
        default=list, help_text="The event types it receives; others are not sent to it."
    )
    status = models.CharField(
        max_length=10, choices=EndpointStatus.choices, default=EndpointStatus.ACTIVE
    )
    disabled_reason = models.CharField(max_length=300, blank=True)
    # Kept in clear: every signature is made with it. Shown once, when made.
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Since when every attempt failed (None while it answers): an endpoint
    # failing for WEBHOOK_DISABLE_AFTER_DAYS is disabled.
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    # A worker sending to it holds it from this moment (one sender at a
    # time keeps the order); an older claim belongs to a worker that died.
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "webhook endpoint"

    def __str__(self) -> str:
        return self.name


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    GIVEN_UP = "given_up", "Given up"


class WebhookDelivery(models.Model):
    """One event for one endpoint: recorded with the event (one per endpoint
    that wants it), sent in the event's order, retried with backoff until it
    is taken or WEBHOOK_RETRY_HOURS have passed since its first failure."""

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    first_failed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="one_delivery_per_endpoint")
        ]
        indexes = [
            # The sender's and the sweep's search for what is still to send.
            models.Index(
                fields=["endpoint", "event"],
                condition=models.Q(status="pending"),
                name="webhook_delivery_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint}"


class WebhookAttempt(models.Model):
    """One try at sending a delivery: the delivery log."""

    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty when no answer came (refused, timed out)."
    )
    ok = models.BooleanField("succeeded")
    duration_ms = models.PositiveIntegerField()
    response_excerpt = models.CharField(max_length=2048, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "webhook attempt"
        verbose_name_plural = "webhook delivery log"
        indexes = [models.Index(fields=["endpoint", "-at"], name="webhook_attempt_log")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"
