"""Every write with business meaning in scoring.

- scores: scoring leads (one, a set, an id range);
- crossing: MQL crossings (a score, a hand-raise, a person), with their snapshot;
- fast_lane: hand-raisers made MQLs whatever their score, or held back;
- by_hand: a lead sent to sales by a person;
- versions: the life of a model version (clone, submit, approve, publish);
- jobs: rescoring many leads in chunks, decay and the catch-up sweep;
- accounts: account (ABM) scores and MQA crossings.
"""

from scoring.services.accounts import score_accounts, sweep_stale_account_scores
from scoring.services.by_hand import send_to_sales
from scoring.services.jobs import (
    run_rescore_chunk,
    start_decay_rescore,
    start_rescore,
    sweep_unscored_leads,
)
from scoring.services.rules import (
    delete_committee_role,
    delete_rule,
    discard_draft,
    save_committee_role,
    save_rule,
    update_model_settings,
)
from scoring.services.scores import (
    qualify_leads,
    rescore_after_events,
    rescore_id_range,
    rescore_leads,
    score_lead,
    score_one,
)
from scoring.services.versions import (
    approve_model,
    clone_model,
    publish_model,
    return_to_draft,
    submit_model,
)

__all__ = [
    "approve_model",
    "clone_model",
    "delete_committee_role",
    "delete_rule",
    "discard_draft",
    "publish_model",
    "qualify_leads",
    "rescore_after_events",
    "rescore_id_range",
    "rescore_leads",
    "return_to_draft",
    "run_rescore_chunk",
    "save_committee_role",
    "save_rule",
    "score_accounts",
    "score_lead",
    "score_one",
    "send_to_sales",
    "start_decay_rescore",
    "start_rescore",
    "submit_model",
    "sweep_stale_account_scores",
    "sweep_unscored_leads",
    "update_model_settings",
]
