"""Each membership counts its SDR's open assignments in its queue, so routing
reads the load of a queue in O(1) under the memberships' lock."""

from django.db import migrations, models
from django.db.models import Count


def backfill_open_counts(apps, schema_editor):
    Assignment = apps.get_model("routing", "Assignment")
    Membership = apps.get_model("routing", "Membership")
    counts = {(row["queue_id"], row["sdr_id"]): row["n"] for row in
              Assignment.objects.filter(status="open", sdr__isnull=False)
              .values("queue_id", "sdr_id").annotate(n=Count("pk")).order_by()}
    for membership in Membership.objects.only("pk", "queue_id", "sdr_id"):
        n = counts.get((membership.queue_id, membership.sdr_id), 0)
        if n:
            Membership.objects.filter(pk=membership.pk).update(open_count=n)


class Migration(migrations.Migration):

    dependencies = [
        ("routing", "0002_defaults_and_roles"),
    ]

    operations = [
        migrations.AddField(
            model_name="membership",
            name="open_count",
            field=models.PositiveIntegerField(default=0, editable=False,
                                              help_text="Open MQLs with this SDR in this queue."),
        ),
        migrations.RunPython(backfill_open_counts, migrations.RunPython.noop, elidable=True),
    ]
