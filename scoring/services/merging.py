"""Scoring's part of a lead merge (``leads.signals.lead_merging``)."""

from __future__ import annotations

from scoring.models import HeldHandRaise, LeadScore, MQLSnapshot


def move_merged_lead(*, survivor_id: int, duplicate_id: int) -> None:
    """Moves the duplicate's MQL snapshots (what sales saw at each hand-off)
    and its hand-raisers held back to the survivor. A lead has one current
    score: the survivor keeps its own (the merge announces the survivor as
    changed, so it is rescored with the merged activities after commit); a
    survivor never scored takes the duplicate's until then. Runs in the
    merge's transaction."""
    MQLSnapshot.objects.filter(lead_id=duplicate_id).update(lead_id=survivor_id)
    HeldHandRaise.objects.filter(lead_id=duplicate_id).update(lead_id=survivor_id)
    if not LeadScore.objects.filter(lead_id=survivor_id).exists():
        LeadScore.objects.filter(lead_id=duplicate_id).update(lead_id=survivor_id)
