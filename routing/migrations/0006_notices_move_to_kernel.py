"""Notices move into the kernel (handoff.Notice), which delivers them in the
app, by email and by chat for every app. Routing's notices are copied there,
each with a link to its lead's page and the event it was about, then routing's
table goes. Queues get an optional chat webhook."""

import handoff.notices.webhooks
from django.db import migrations, models


def copy_notices(apps, schema_editor):
    """One INSERT … SELECT (PostgreSQL and SQLite alike): fast, and it keeps
    each notice's own created_at, which the ORM's auto_now_add would not."""
    old = apps.get_model("routing", "Notice")._meta.db_table
    new = apps.get_model("handoff", "Notice")._meta.db_table
    # Their email went out (or not) when they were written: nothing is pending.
    # The link is the lead page's path (routing:lead) at the time of the move.
    schema_editor.execute(
        f"INSERT INTO {new} (user_id, kind, text, link, about, created_at, read_at, in_app,"
        " email, chat, chat_url, attempts, last_error)"
        " SELECT user_id, kind, text,"
        " CASE WHEN assignment_id IS NULL THEN '' ELSE '/queue/' || assignment_id || '/' END,"
        " CASE WHEN assignment_id IS NULL THEN '' ELSE 'assignment:' || assignment_id END,"
        f" created_at, read_at, TRUE, '', '', '', 0, '' FROM {old} ORDER BY id"
    )


class Migration(migrations.Migration):

    dependencies = [
        ("routing", "0005_rollup_kit"),
        ("handoff", "0006_notices"),
    ]

    operations = [
        migrations.AddField(
            model_name="queue",
            name="chat_webhook_url",
            field=models.CharField(
                blank=True,
                help_text=(
                    "Optional: a Slack or Microsoft Teams incoming webhook for the queue's chat "
                    "notices, used for members who asked for chat and gave no webhook of their own."
                ),
                max_length=500,
                validators=[handoff.notices.webhooks.validate_webhook_url],
            ),
        ),
        migrations.RunPython(copy_notices, migrations.RunPython.noop),
        migrations.DeleteModel(name="Notice"),
    ]
