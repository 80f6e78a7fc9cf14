"""Filters shared by the apps' FilterSets."""

from datetime import UTC, datetime

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField, RangeField
from django_filters.widgets import DateRangeWidget

from handoff.validators import MAX_ID


class UTCIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, turned into UTC before it reaches a query.

    Python takes offsets up to ±23:59 and PostgreSQL only up to ±15:59, so a
    valid-looking ``2026-01-01T00:00:00+18:00`` would fail in the database; in
    UTC every offset is fine. A moment that falls outside the years 1 to 9999 once
    in UTC is refused here, naming the value.
    """

    def to_python(self, value: object) -> datetime | None:
        moment = super().to_python(value)
        if moment is None or moment.tzinfo is None:
            return moment
        try:
            return moment.astimezone(UTC)
        except OverflowError as error:
            raise forms.ValidationError(
                "%(value)s is out of range: give a moment between the years 1 and 9999.",
                code="invalid",
                params={"value": value},
            ) from error


class UTCIsoDateTimeRangeField(RangeField):
    widget = DateRangeWidget

    def __init__(self, *args, **kwargs):
        super().__init__((UTCIsoDateTimeField(), UTCIsoDateTimeField()), *args, **kwargs)


class IsoDateTimeFromToRangeFilter(django_filters.RangeFilter):
    """``<name>_after`` and ``<name>_before`` as ISO 8601 moments, in UTC."""

    field_class = UTCIsoDateTimeRangeField


class IdFilter(django_filters.NumberFilter):
    """A related row (an SDR, an owner) by id, never looked up: an id nobody
    has, or one the asker may not see, gives the same empty list as an id
    with nothing to show. A ModelChoiceFilter answered 400 ("Select a valid
    choice") only for ids that do not exist, telling which ones do. Anything
    but a whole number in the 64-bit range ids have is refused alike."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
