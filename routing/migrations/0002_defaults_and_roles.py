"""A working-week calendar, two SLA policies and two queues, so new MQLs have
somewhere to go from the first minute; and the routing permissions of each role."""

from datetime import time

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "Marketing ops": [
        f"{action}_{model}" for model in ("queue", "membership", "slapolicy",
                                          "businesscalendar", "holiday")
        for action in ("add", "change", "delete", "view")
    ] + ["view_assignment", "view_touch"],
    "Sales manager": [
        f"{action}_{model}" for model in ("queue", "membership", "slapolicy",
                                          "businesscalendar", "holiday")
        for action in ("add", "change", "view")
    ] + ["view_assignment", "change_assignment", "view_touch", "view_notice"],
    "SDR": ["view_assignment", "view_queue", "view_touch", "view_membership"],
    "Integration": ["view_assignment"],
}


def create_defaults(apps, schema_editor):
    app_config = apps.get_app_config("routing")
    if getattr(app_config, "models_module", None) is None:  # historical configs have none
        app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="routing", codename__in=codenames))

    Queue = apps.get_model("routing", "Queue")
    if Queue.objects.exists():
        return
    Calendar = apps.get_model("routing", "BusinessCalendar")
    Policy = apps.get_model("routing", "SLAPolicy")
    week = Calendar.objects.create(name="Working week (UTC)", time_zone="UTC",
                                   working_days=[0, 1, 2, 3, 4], day_start=time(9),
                                   day_end=time(17))
    fast = Policy.objects.create(name="Demo request", first_touch_minutes=120, calendar=week,
                                 remind_at_percent=75)
    normal = Policy.objects.create(name="Scored lead", first_touch_minutes=24 * 60,
                                   remind_at_percent=75)
    inbound = Queue.objects.create(name="Inbound MQLs", priority=100, sla_policy=normal,
                                   strategy="round_robin")
    Queue.objects.create(name="Demo requests", priority=10, sla_policy=fast,
                         activity_kinds=["demo_request"], strategy="account_owner_first",
                         fallback=inbound)


class Migration(migrations.Migration):
    dependencies = [("routing", "0001_initial"), ("leads", "0002_sources_and_roles")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
