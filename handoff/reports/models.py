"""What every rollup keeps beside its numbers: one state row, and marks of
periods that changed after they were counted. Abstract: each app's rollup
has its own tables, so it is rewritten and locked on its own."""

from __future__ import annotations

from typing import ClassVar

from django.db import models


class BaseRollupState(models.Model):
    """The one row (pk 1) saying what the rollup holds: everything that
    happened before ``refreshed_at``, cut into periods in ``time_zone``.
    Refreshes lock it, so two of them never rewrite the same periods at once."""

    refreshed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the last refresh started (its data is as of then)."
    )
    time_zone = models.CharField(max_length=64, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{type(self)._meta.verbose_name} as of {self.refreshed_at}"


class BaseChangedPeriod(models.Model):
    """A period whose numbers changed after the rollup counted them (a late
    first touch, an opportunity dated in the past): the next refresh recounts
    it. Each concrete model declares its unique date field, named by
    ``period_field``."""

    period_field: ClassVar[str]
    # Raised by every mark, so a refresh deletes only the marks it has read.
    version = models.PositiveBigIntegerField(default=1)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{getattr(self, self.period_field)} changed ({self.version})"
