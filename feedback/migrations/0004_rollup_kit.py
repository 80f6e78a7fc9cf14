# The weekly rollup's state row and marks take the kernel's shape
# (handoff.reports.models): a mark carries a version instead of a moment
# (waiting marks are kept, as version 1), and the state row the time zone its
# weeks were cut in: the site's, as they always were.

from django.conf import settings
from django.db import migrations, models


def record_time_zone(apps, schema_editor):
    RollupState = apps.get_model('feedback', 'RollupState')
    RollupState.objects.filter(refreshed_at__isnull=False).update(time_zone=settings.TIME_ZONE)


class Migration(migrations.Migration):

    dependencies = [
        ('feedback', '0003_weekly_rollup'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='changedweek',
            name='changed_at',
        ),
        migrations.AddField(
            model_name='changedweek',
            name='version',
            field=models.PositiveBigIntegerField(default=1),
        ),
        migrations.AddField(
            model_name='rollupstate',
            name='time_zone',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.RunPython(record_time_zone, migrations.RunPython.noop),
    ]
