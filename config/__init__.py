"""The project package: settings, URLs, the Celery app, WSGI/ASGI and the
site-wide views. It sits on top of every app; nothing imports it but the
entry points (manage.py, gunicorn, celery -A config)."""

from config.celery import app as celery_app

__all__ = ["celery_app"]
