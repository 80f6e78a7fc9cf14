"""Routing in the admin: marketing ops and managers configure calendars, SLA
policies and queues (with their SDRs); assignments and touches are
records, shown read-only.

Memberships are written through routing's services: join_queue for a
newcomer (who starts level with the least-served member instead of taking
every lead until they catch up), update_membership for a changed seat (which
offers the queue's waiting leads at once when it makes room).
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils.html import format_html, format_html_join

from handoff.admin import ReadOnlyAdmin
from handoff.roles import SDR
from routing import services
from routing.models import (
    Assignment,
    BusinessCalendar,
    Holiday,
    Membership,
    Queue,
    SLAPolicy,
    Touch,
)


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "working_days", "day_start", "day_end"]
    search_fields = ["name"]
    inlines = [HolidayInline]


@admin.register(SLAPolicy)
class SLAPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "first_touch_minutes",
        "calendar",
        "remind_at_percent",
        "reassign_after_minutes",
        "escalate_to_manager",
    ]
    list_select_related = ["calendar"]
    search_fields = ["name"]


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = [
        "sdr",
        "capacity",
        "weight",
        "away_until",
        "is_active",
        "open_count",
        "assigned_count",
    ]
    readonly_fields = ["open_count", "assigned_count"]
    extra = 1

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "sdr":
            kwargs["queryset"] = (
                get_user_model().objects.filter(groups__name=SDR).order_by("username")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("sdr")


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "priority",
        "is_active",
        "strategy",
        "sla_policy",
        "fallback",
        "manager",
        "members",
    ]
    list_filter = ["is_active", "strategy"]
    list_select_related = ["sla_policy", "fallback", "manager"]
    search_fields = ["name"]
    filter_horizontal = ["sources"]
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(active_members=Count("memberships", filter=Q(memberships__is_active=True)))
        )

    @admin.display(description="SDRs", ordering="active_members")
    def members(self, queue: Queue) -> int:
        return queue.active_members

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        memberships = formset.save(commit=False)
        for deleted in formset.deleted_objects:
            deleted.delete()
        for membership in memberships:
            # Through the services: a newcomer is levelled with the others, an
            # edit writes only the seat (never the counters), and either one
            # offers the queue's waiting leads when it makes room.
            if membership.pk is None:
                services.join_queue(
                    queue=form.instance,
                    sdr=membership.sdr,
                    capacity=membership.capacity,
                    weight=membership.weight,
                    is_active=membership.is_active,
                    away_until=membership.away_until,
                )
            else:
                services.update_membership(
                    membership=membership,
                    capacity=membership.capacity,
                    weight=membership.weight,
                    is_active=membership.is_active,
                    away_until=membership.away_until,
                )
        formset.save_m2m()
        return None


def why_html(why: dict) -> str:
    """An assignment's reasons, as a short list."""
    if not why:
        return "—"
    lines = [
        (label, why[key])
        for key, label in [
            ("queue", "Queue"),
            ("matched_on", "Matched on"),
            ("strategy", "Strategy"),
            ("sdr", "SDR"),
            ("chosen_because", "Chosen because"),
        ]
        if why.get(key)
    ]
    if why.get("overflowed_from"):
        lines.append(("Overflowed from", ", ".join(why["overflowed_from"])))
    for skip in why.get("skipped", []):
        lines.append(
            ("Skipped", f"{skip.get('sdr')}: {skip.get('reason')} ({skip.get('queue', '')})")
        )
    return format_html(
        "<ul>{}</ul>", format_html_join("", "<li><strong>{}</strong>: {}</li>", lines)
    )


class TouchInline(admin.TabularInline):
    model = Touch
    fields = ["at", "kind", "who", "reason", "note"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "lead",
        "queue",
        "sdr",
        "status",
        "assigned_at",
        "due_at",
        "first_touch_at",
        "breached_at",
        "why_short",
    ]
    list_filter = ["status", "queue", "sdr"]
    list_select_related = ["lead", "queue", "sdr"]
    search_fields = ["lead__email", "lead__last_name", "lead__company_name"]
    date_hierarchy = "created_at"
    fields = [
        "lead",
        "queue",
        "sdr",
        "status",
        "created_at",
        "assigned_at",
        "due_at",
        "remind_at",
        "reminded_at",
        "first_touch_at",
        "breached_at",
        "closed_at",
        "reassigned_from",
        "waiting_reason",
        "why_list",
    ]
    readonly_fields = fields
    inlines = [TouchInline]

    @admin.display(description="why")
    def why_short(self, assignment: Assignment) -> str:
        why = assignment.why or {}
        parts = [why.get("matched_on"), why.get("chosen_because")]
        if why.get("overflowed_from"):
            parts.append(f"overflow from {', '.join(why['overflowed_from'])}")
        return "; ".join(p for p in parts if p) or assignment.waiting_reason or "—"

    @admin.display(description="why")
    def why_list(self, assignment: Assignment) -> str:
        return why_html(assignment.why)


@admin.register(Touch)
class TouchAdmin(ReadOnlyAdmin):
    list_display = ["at", "kind", "assignment", "who", "reason"]
    list_filter = ["kind", "reason"]
    list_select_related = ["assignment__lead", "assignment__sdr"]
    fields = ["assignment", "kind", "who", "at", "reason", "note"]
    readonly_fields = fields
