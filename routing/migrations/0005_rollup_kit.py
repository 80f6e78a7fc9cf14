# The SLA rollup's state row takes the kernel's shape (handoff.reports.models):
# covered_until becomes refreshed_at. The two always held the same moment, so
# the column is renamed rather than dropped: a running rollup stays incremental.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('routing', '0004_sla_rollup'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='slarollupstate',
            name='refreshed_at',
        ),
        migrations.RenameField(
            model_name='slarollupstate',
            old_name='covered_until',
            new_name='refreshed_at',
        ),
        migrations.AlterField(
            model_name='slarollupstate',
            name='refreshed_at',
            field=models.DateTimeField(blank=True, help_text='When the last refresh started (its data is as of then).', null=True),
        ),
    ]
