"""The scoring app's hand-off point to the apps above it.

``lead_became_mql`` is sent inside the transaction that moved a lead to MQL,
with ``lead_id`` and ``snapshot_id``. Routing listens (connecting in its
AppConfig.ready) and assigns the lead on commit. Scoring never imports routing.
"""

from django.dispatch import Signal

lead_became_mql = Signal()
