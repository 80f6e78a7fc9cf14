"""Reads of feedback that are more than one line."""

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from feedback.models import Opportunity
from handoff.visibility import visible_to


def opportunities_visible_to(user: User | AnonymousUser) -> QuerySet[Opportunity]:
    """Every opportunity for those who see every lead; those of one's own leads otherwise."""
    return visible_to(user, Opportunity.objects.select_related("lead"), owner_field="lead__owner")
