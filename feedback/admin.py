"""Feedback in the admin."""

from feedback import admin_recalibration  # noqa: F401  (registers RecalibrationAdmin)
