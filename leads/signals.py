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

# ``lead_merging`` is sent by ``leads.services.merge_leads`` inside the merge's
# transaction, after the survivor's own rows and stage are settled and BEFORE
# the duplicate is deleted, with ``survivor_id`` and ``duplicate_id``. Unlike
# the two signals above, its receivers work inside the sender's transaction:
# each app above leads moves its own rows that name the duplicate to the
# survivor (rows left behind would be deleted with the duplicate), so a merge
# keeps the whole history or, if a receiver fails, nothing happens at all.
lead_merging = Signal()
