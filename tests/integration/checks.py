"""What the fault tests check about scores once the dust has settled."""

from django.db.models import Max

from leads.models import Activity, Lead
from scoring import services as scoring_services
from scoring.models import LeadScore
from scoring.selectors import live_model


def scored_since_last_event(lead_ids: list[int]) -> bool:
    """Every lead has a score taken after its latest event arrived."""
    scored_at = dict(
        LeadScore.objects.filter(lead_id__in=lead_ids).values_list("lead_id", "scored_at")
    )
    last_event = dict(
        Activity.objects.filter(lead_id__in=lead_ids)
        .values("lead_id")
        .annotate(last=Max("received_at"))
        .values_list("lead_id", "last")
    )
    return all(
        lead_id in scored_at and scored_at[lead_id] >= last for lead_id, last in last_event.items()
    )


def assert_scores_match_a_fresh_scoring(lead_ids: list[int]) -> None:
    model = live_model()
    for lead in Lead.objects.filter(pk__in=lead_ids).select_related("account", "source"):
        stored = LeadScore.objects.get(lead=lead)
        fresh = scoring_services.score_one(model, lead, as_of=stored.scored_at)
        assert (stored.total, stored.explanation) == (fresh.total, fresh.explanation), (
            f"lead {lead.email}: stored {stored.total}, a fresh scoring gives {fresh.total}"
        )
