"""What a version would change if it went live, before anyone publishes it.

Every lead is scored under the version and compared with its live score as
stored (``scoring_leadscore``): how many leads would newly qualify as MQLs and
how many would stop qualifying, by lead source, and how total scores spread
out, in 10-point buckets, under each.

On PostgreSQL the version is scored set-wise (scoring.bulk) and everything is
counted inside one statement: no lead is loaded into Python, so a million
leads take seconds. The embedded SQLite default scores lead by lead with the
Python engine, which gives the same numbers and is fine for demo sizes.
Nothing is written.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from leads.models import Activity, Lead, LeadSource, LeadTouch
from scoring import bulk, engine
from scoring.engine import CompiledModel, compile_model
from scoring.fields import lead_values
from scoring.models import LeadScore, ScoringModel
from scoring.selectors import live_model

BUCKET_POINTS = 10
_BATCH = 2000
_WORK_MEM = "256MB"


@dataclass(frozen=True)
class SourceImpact:
    source: str
    leads: int
    live_mqls: int  # leads qualifying now, as stored
    draft_mqls: int  # leads that would qualify under the version
    newly_qualify: int
    stop_qualifying: int


@dataclass(frozen=True)
class Bucket:
    """Leads whose total is at least ``low`` and below ``low + 10`` points."""

    low: int
    live: int
    draft: int

    @property
    def high(self) -> int:
        return self.low + BUCKET_POINTS


@dataclass(frozen=True)
class ImpactPreview:
    draft: ScoringModel
    live: ScoringModel | None
    as_of: datetime
    sources: list[SourceImpact]
    buckets: list[Bucket]
    unscored: int  # leads with no live score yet (they count as not qualifying)
    seconds: float

    @property
    def leads(self) -> int:
        return sum(s.leads for s in self.sources)

    @property
    def newly_qualify(self) -> int:
        return sum(s.newly_qualify for s in self.sources)

    @property
    def stop_qualifying(self) -> int:
        return sum(s.stop_qualifying for s in self.sources)

    @property
    def live_mqls(self) -> int:
        return sum(s.live_mqls for s in self.sources)

    @property
    def draft_mqls(self) -> int:
        return sum(s.draft_mqls for s in self.sources)

    @property
    def largest_bucket(self) -> int:
        return max((max(b.live, b.draft) for b in self.buckets), default=0)


def preview_impact(*, draft: ScoringModel, as_of: datetime | None = None) -> ImpactPreview:
    """Scores every lead under ``draft`` as of ``as_of`` (now by default) and
    compares the outcome with the stored live scores. Writes nothing."""
    as_of = as_of or timezone.now()
    started = time.monotonic()
    # A draft changes between two previews, so it is compiled afresh, never cached.
    compiled = compile_model(draft)
    if connection.vendor == "postgresql":
        by_source, draft_buckets, live_buckets = _count_in_sql(compiled, as_of)
    else:
        by_source, draft_buckets, live_buckets = _count_in_python(compiled, as_of)
    names = dict(LeadSource.objects.filter(pk__in=by_source).values_list("pk", "name"))
    sources = sorted(
        (SourceImpact(names[source_id], *counts[:5]) for source_id, counts in by_source.items()),
        key=lambda s: (-s.leads, s.source),
    )
    return ImpactPreview(
        draft=draft,
        live=live_model(),
        as_of=as_of,
        sources=sources,
        buckets=_buckets(draft_buckets, live_buckets),
        unscored=sum(counts[5] for counts in by_source.values()),
        seconds=time.monotonic() - started,
    )


def _buckets(draft: Counter[int], live: Counter[int]) -> list[Bucket]:
    """Every bucket from the lowest to the highest with a lead, gaps included,
    so that the chart's axis is even."""
    filled = set(draft) | set(live)
    if not filled:
        return []
    return [
        Bucket(low * BUCKET_POINTS, live[low], draft[low])
        for low in range(min(filled), max(filled) + 1)
    ]


# Counts per source: leads, live MQLs, draft MQLs, newly, stopped, unscored.
SourceCounts = tuple[int, int, int, int, int, int]

# One scan, three groupings. Totals are in hundredths of a point in the draft
# scores and in points in scoring_leadscore; a bucket is floor(total / 10).
_IMPACT_SQL = """
SELECT GROUPING(source_id) = 0 AS by_source, GROUPING(draft_bucket) = 0 AS by_draft,
       source_id, draft_bucket, live_bucket,
       COUNT(*),
       COUNT(*) FILTER (WHERE live_qualifies),
       COUNT(*) FILTER (WHERE draft_qualifies),
       COUNT(*) FILTER (WHERE draft_qualifies AND NOT live_qualifies),
       COUNT(*) FILTER (WHERE live_qualifies AND NOT draft_qualifies),
       COUNT(*) FILTER (WHERE NOT scored)
FROM (
    SELECT d.source_id, d.qualifies AS draft_qualifies,
           COALESCE(ls.qualifies, false) AS live_qualifies, ls.lead_id IS NOT NULL AS scored,
           floor(d.total / %s::numeric)::int AS draft_bucket,
           floor(ls.total / %s::numeric)::int AS live_bucket
    FROM ({scores}) d
    LEFT JOIN scoring_leadscore ls ON ls.lead_id = d.lead_id
) compared
GROUP BY GROUPING SETS ((source_id), (draft_bucket), (live_bucket))
"""


def _count_in_sql(
    compiled: CompiledModel,
    as_of: datetime,
) -> tuple[dict[int, SourceCounts], Counter[int], Counter[int]]:
    # The explanation the scores query also builds is never read here, and
    # PostgreSQL drops unread columns of a subquery: it is not computed.
    scores = bulk.scores_sql(compiled, as_of=as_of, lead_filter=bulk.Sql("{lead_id} > %s", [0]))
    by_source: dict[int, SourceCounts] = {}
    draft: Counter[int] = Counter()
    live: Counter[int] = Counter()
    with transaction.atomic(), connection.cursor() as cursor:
        # For this one statement only (SET LOCAL): compiling it (JIT) takes
        # longer than it saves; with the default work_mem the planner walked
        # the activity index one random heap read per activity (30 s against
        # 10 s for a million leads and three million activities); and with
        # the default random read cost it hashes ten million activities rather
        # than read them, already in lead order, from their covering index.
        cursor.execute(
            "SELECT set_config('jit', 'off', true), "
            "set_config('work_mem', %s, true), "
            "set_config('random_page_cost', %s, true)",
            [_WORK_MEM, bulk.RANDOM_READ_COST],
        )
        cursor.execute(
            _IMPACT_SQL.format(scores=scores.text),
            [BUCKET_POINTS * 100, BUCKET_POINTS, *scores.params],
        )
        for is_source, is_draft, source_id, draft_bucket, live_bucket, *counts in cursor:
            if is_source:
                by_source[source_id] = tuple(counts)
            elif is_draft:
                draft[draft_bucket] = counts[0]
            elif live_bucket is not None:  # the leads without a live score have no bucket
                live[live_bucket] = counts[0]
    return by_source, draft, live


def _count_in_python(
    compiled: CompiledModel,
    as_of: datetime,
) -> tuple[dict[int, SourceCounts], Counter[int], Counter[int]]:
    counts: dict[int, list[int]] = defaultdict(lambda: [0] * 6)
    draft: Counter[int] = Counter()
    live: Counter[int] = Counter()
    leads = Lead.objects.select_related("account", "source").order_by("pk")
    batch: list[Lead] = []
    for lead in leads.iterator(chunk_size=_BATCH):
        batch.append(lead)
        if len(batch) == _BATCH:
            _count_batch(compiled, as_of, batch, counts, draft, live)
            batch = []
    if batch:
        _count_batch(compiled, as_of, batch, counts, draft, live)
    return {k: tuple(v) for k, v in counts.items()}, draft, live


def _count_batch(
    compiled: CompiledModel,
    as_of: datetime,
    leads: list[Lead],
    counts: dict[int, list[int]],
    draft: Counter[int],
    live: Counter[int],
) -> None:
    ids = [lead.pk for lead in leads]
    stored = {
        s.lead_id: (s.qualifies, s.total)
        for s in LeadScore.objects.filter(lead_id__in=ids).only("lead_id", "qualifies", "total")
    }
    activities: dict[int, list[engine.ActivityFacts]] = defaultdict(list)
    if compiled.max_window_days:
        since = as_of - timedelta(days=compiled.max_window_days)
        for a in Activity.objects.filter(lead_id__in=ids, occurred_at__gte=since).only(
            "lead_id", "kind", "url", "properties", "occurred_at"
        ):
            activities[a.lead_id].append(
                engine.ActivityFacts(
                    kind=a.kind, url=a.url, properties=a.properties, occurred_at=a.occurred_at
                )
            )
    touches: dict[int, list[int]] = defaultdict(list)
    for lead_id, source_id in LeadTouch.objects.filter(lead_id__in=ids).values_list(
        "lead_id", "source_id"
    ):
        touches[lead_id].append(source_id)
    for lead in leads:
        result = engine.score(
            compiled,
            values=lead_values(lead),
            attributes=lead.attributes,
            source_id=lead.source_id,
            touch_source_ids=touches[lead.pk],
            activities=activities[lead.pk],
            as_of=as_of,
        )
        live_qualifies, live_total = stored.get(lead.pk, (False, None))
        row = counts[lead.source_id]
        row[0] += 1
        row[1] += live_qualifies
        row[2] += result.qualifies
        row[3] += result.qualifies and not live_qualifies
        row[4] += live_qualifies and not result.qualifies
        row[5] += lead.pk not in stored
        draft[result.total_cents // (BUCKET_POINTS * 100)] += 1
        if live_total is not None:
            live[_bucket_of(live_total)] += 1


def _bucket_of(total: Decimal) -> int:
    return math.floor(total / BUCKET_POINTS)
