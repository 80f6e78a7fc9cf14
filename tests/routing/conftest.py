import itertools

import pytest
from django.contrib.auth.models import Group, User

from leads.models import Stage
from leads.services import change_stage, upsert_lead
from routing.models import Queue
from routing.services import join_queue
from tests import factories


@pytest.fixture
def inbound(db) -> Queue:
    return Queue.objects.get(name="Inbound MQLs")


@pytest.fixture
def demo_queue(db) -> Queue:
    return Queue.objects.get(name="Demo requests")


@pytest.fixture
def make_sdr(db):
    def make(
        username: str, *, queue: Queue | None = None, capacity: int = 25, weight: int = 1
    ) -> User:
        user = User.objects.create_user(
            username, password="x-long-password", email=f"{username}@example.com"
        )
        user.groups.add(Group.objects.get(name="SDR"))
        if queue is not None:
            join_queue(queue=queue, sdr=user, capacity=capacity, weight=weight)
        return user

    return make


@pytest.fixture
def make_mql(db):
    counter = itertools.count(1)

    def make(*, demo: bool = False, email: str | None = None, **fields):
        # Through the upsert, so a company email joins its account.
        lead, _ = upsert_lead(
            email=email or f"mql{next(counter)}@example.com", source=factories.source(), **fields
        )
        if demo:
            factories.make_activity(lead, "demo_request")
        change_stage(lead=lead, to_stage=Stage.MQL, reason="test")
        return lead

    return make
