"""Stage changes and merges keep their actor's name; people with that history
cannot be deleted (as the audit trail's actors since handoff 0005).

Rows written before this keep the name their actor has now."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_actor_names(apps, schema_editor):
    StageChange = apps.get_model("leads", "StageChange")
    LeadMerge = apps.get_model("leads", "LeadMerge")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    # One UPDATE per table, whatever the number of rows.
    for model, column in ((StageChange, "changed_by_id"), (LeadMerge, "merged_by_id")):
        model.objects.filter(**{f"{column[:-3]}__isnull": False}).update(
            **{
                f"{column[:-3]}_name": Subquery(
                    User.objects.filter(pk=OuterRef(column)).values("username")[:1]
                )
            }
        )


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0012_importmapping_permissions'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='leadmerge',
            name='merged_by_name',
            field=models.CharField(blank=True, help_text='Who merged, by username as it was then; empty for the system.', max_length=150),
        ),
        migrations.AddField(
            model_name='stagechange',
            name='changed_by_name',
            field=models.CharField(blank=True, help_text='Who made the change, by username as it was then; empty for the system.', max_length=150),
        ),
        migrations.RunPython(fill_actor_names, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='leadmerge',
            name='merged_by',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='stagechange',
            name='changed_by',
            field=models.ForeignKey(blank=True, help_text='Empty when the system made the change (scoring, routing, a task).', null=True, on_delete=django.db.models.deletion.PROTECT, to=settings.AUTH_USER_MODEL),
        ),
    ]
