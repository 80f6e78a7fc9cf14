"""The leads app's one hand-off point to the apps above it.

``activities_recorded`` is sent after new activity rows are written (inside the
writing transaction), with ``lead_ids``: the set of leads that have new events.
The scoring app listens and enqueues a rescore of those leads on commit. Leads
never imports scoring; scoring connects to this signal in its AppConfig.ready.
"""

from django.dispatch import Signal

activities_recorded = Signal()

# ``leads_changed`` is sent after leads were created or their data changed
# (upsert, import, merge) or their account's data changed, with ``lead_ids``.
# Scoring rescores them on commit.
leads_changed = Signal()
