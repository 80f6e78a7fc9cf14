"""Every write with business meaning in routing.

- assign: matching a queue, picking an SDR, waiting and overflow, memberships;
- decisions: what an SDR does with an MQL (accept, reject, recycle, log a touch);
- sla: reminders, breaches, reassignment and escalation;
- notices: marking in-app notices read.
"""

from routing.services.assign import assign_waiting, join_queue, route_mql
from routing.services.decisions import accept_mql, log_touch, recycle_mql, reject_mql
from routing.services.notices import mark_notices_read
from routing.services.sla import watch_sla_clocks

__all__ = [
    "accept_mql", "assign_waiting", "join_queue", "log_touch", "mark_notices_read",
    "recycle_mql", "reject_mql", "route_mql", "watch_sla_clocks",
]
