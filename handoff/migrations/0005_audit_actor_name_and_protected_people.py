"""Audit entries keep their actor's name; people with history cannot be deleted.

Entries written before this keep the name their actor has now (the ones
whose actor was already deleted stay "system": that name is gone).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_actor_names(apps, schema_editor):
    AuditEntry = apps.get_model("handoff", "AuditEntry")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    # One UPDATE, whatever the number of entries; historical models have no
    # USERNAME_FIELD, and Django's User names its column username.
    AuditEntry.objects.filter(actor__isnull=False).update(
        actor_name=Subquery(User.objects.filter(pk=OuterRef("actor_id")).values("username")[:1])
    )


class Migration(migrations.Migration):

    dependencies = [
        ('handoff', '0004_apitoken_roles'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='auditentry',
            name='actor_name',
            field=models.CharField(blank=True, help_text="The actor's username when the entry was written; empty for the system.", max_length=150),
        ),
        migrations.RunPython(fill_actor_names, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='apitoken',
            name='created_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='apitoken',
            name='revoked_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='actor',
            field=models.ForeignKey(blank=True, help_text='Empty when the system acted (a task, a migration).', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
    ]
