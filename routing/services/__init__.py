"""Every write with business meaning in routing.

- assign: matching a queue, picking an SDR, waiting and overflow, memberships
  (joining a queue, changing a seat);
- capacity: each membership's count of open MQLs, and its repair;
- decisions: what an SDR does with an MQL (accept, reject, recycle, log a touch);
- sla: reminders, breaches, reassignment and escalation;
- notices: telling SDRs and managers (through handoff.notices);
- queues: a queue's manager;
- availability: an SDR away and back.
"""

from routing.services.assign import (
    assign_waiting,
    join_queue,
    reassign_mqls,
    route_mql,
    update_membership,
)
from routing.services.availability import set_availability
from routing.services.capacity import repair_open_counts
from routing.services.decisions import accept_mql, log_touch, recycle_mql, reject_mql
from routing.services.queues import set_queue_manager
from routing.services.sla import watch_sla_clocks

__all__ = [
    "accept_mql",
    "assign_waiting",
    "join_queue",
    "log_touch",
    "reassign_mqls",
    "recycle_mql",
    "reject_mql",
    "repair_open_counts",
    "route_mql",
    "set_availability",
    "set_queue_manager",
    "update_membership",
    "watch_sla_clocks",
]
