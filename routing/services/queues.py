"""A queue's configuration that people change outside the admin's forms."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from handoff import audit
from handoff.errors import DomainError
from handoff.roles import SALES_MANAGER, has_role
from routing.models import Queue


@transaction.atomic
def set_queue_manager(*, queue: Queue, manager: User | None, by: User | None) -> Queue:
    """Makes ``manager`` (a sales manager, or nobody) the queue's manager: the
    person told about its breaches and escalations.

    Guarantees: only a sales manager (or a superuser) can manage a queue
    (DomainError naming the field otherwise); the change is in the audit
    trail; setting the manager the queue already has writes nothing.
    """
    if manager is not None and not has_role(manager, SALES_MANAGER):
        raise DomainError(
            f"{manager.get_full_name() or manager.username} is not a sales manager: "
            "only a sales manager can manage a queue.",
            field="manager",
        )
    current = Queue.objects.select_for_update().get(pk=queue.pk)
    if current.manager_id == (manager.pk if manager else None):
        return current
    Queue.objects.filter(pk=current.pk).update(manager=manager)
    audit.record(
        actor=by,
        action="manager changed",
        obj=current,
        changes={"manager": [current.manager_id, manager.pk if manager else None]},
    )
    current.manager = manager
    queue.manager = manager
    return current
