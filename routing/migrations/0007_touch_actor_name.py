"""Touches keep their SDR's name as it was. Rows written before this keep the
name their SDR has now."""

from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_actor_names(apps, schema_editor):
    Touch = apps.get_model("routing", "Touch")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    Touch.objects.update(
        by_name=Subquery(User.objects.filter(pk=OuterRef("by_id")).values("username")[:1])
    )


class Migration(migrations.Migration):

    dependencies = [
        ('routing', '0006_notices_move_to_kernel'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='touch',
            name='by_name',
            field=models.CharField(blank=True, help_text='Who touched it, by username as it was then.', max_length=150),
        ),
        migrations.RunPython(fill_actor_names, migrations.RunPython.noop),
    ]
