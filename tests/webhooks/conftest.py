import pytest

from handoff.models import EventType
from handoff.webhooks import services
from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def endpoint_to(marketing_ops):
    """Adds an endpoint for ``url`` (all event types unless told) and returns
    it with its secret."""

    def add(url: str, types=None, name: str = "Warehouse"):
        return services.create_endpoint(
            name=name,
            url=url,
            event_types=types or [t for t in EventType.values if t != EventType.TEST],
            by=marketing_ops,
        )

    return add
