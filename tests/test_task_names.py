"""Task functions are named apart from the services they call; their Celery
names are what queued messages and the beat schedule refer to, and hold."""

import importlib
import importlib.util

from django.apps import apps as django_apps
from django.conf import settings

from config.celery import app


def test_every_scheduled_task_is_registered():
    # What the worker's autodiscovery imports: each installed app's tasks module.
    for app_config in django_apps.get_app_configs():
        if importlib.util.find_spec(f"{app_config.name}.tasks") is not None:
            importlib.import_module(f"{app_config.name}.tasks")

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert scheduled - set(app.tasks) == set()


def test_renamed_task_functions_keep_their_celery_names():
    from feedback import tasks as feedback_tasks
    from routing import tasks as routing_tasks
    from scoring import tasks as scoring_tasks

    assert {
        scoring_tasks.rescore_changed_leads.name,
        scoring_tasks.rescore_engaged_leads.name,
        scoring_tasks.catch_up_unscored_leads.name,
        scoring_tasks.refresh_account_scores.name,
        routing_tasks.route_new_mql.name,
        routing_tasks.run_sla_watcher.name,
        feedback_tasks.refresh_dashboard_rollup.name,
    } == {
        "scoring.rescore_leads",
        "scoring.rescore_after_events",
        "scoring.sweep_unscored_leads",
        "scoring.score_accounts",
        "routing.route_mql",
        "routing.watch_sla_clocks",
        "feedback.refresh_weekly_counts",
    }
