"""The scoring engine, set-wise, in one PostgreSQL statement per chunk.

It mirrors scoring.engine term by term (see its docstring for the arithmetic
that keeps the two paths identical); tests/scoring/test_engine_agreement.py
holds them to it over random models, leads and activities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from scoring.engine import (
    PATTERN_OPERATORS,
    SECONDS_PER_DAY,
    CompiledModel,
    CompiledRule,
    Condition,
)
from scoring.fields import ATTRIBUTE_PREFIX, FIELDS, FieldType
from scoring.models import Layer, Operator
from scoring.patterns import runnable_pattern

# The planner's cost of a random page read, relative to a sequential one, set
# for the transactions of the statements built here (rescore chunks, preview).
# PostgreSQL's default of 4 is for spinning disks; with the data in memory it
# chose to hash every account for each chunk, and to hash ten million
# activities for a preview, instead of reading them in lead order from their
# covering index.
RANDOM_READ_COST = "1.1"


@dataclass
class Sql:
    """A fragment of SQL and its parameters, in order."""

    text: str
    params: list[Any] = field(default_factory=list)


def _json_value_sql(container: str, key: str, type_: FieldType | str, params: list) -> str:
    """A JSON member read as text or number, NULL when it is of another type."""
    params += [key, key]
    if type_ == "number":
        return (
            f"(CASE WHEN jsonb_typeof({container} -> %s) = 'number' "
            f"THEN ({container} ->> %s)::numeric END)"
        )
    return (
        f"(CASE WHEN jsonb_typeof({container} -> %s) = 'string' "
        f"THEN NULLIF({container} ->> %s, '') END)"
    )


def condition_sql(cond: Condition, *, container: str | None, as_of: datetime) -> Sql:
    """SQL for one condition. ``container`` is the JSON column for attribute and
    property conditions (None for registered fields)."""
    params: list[Any] = []
    op = cond.operator
    if container is not None:
        key = cond.field.removeprefix(ATTRIBUTE_PREFIX)
        if op == Operator.IS_SET:
            return Sql(
                f"({container} -> %s IS NOT NULL AND {container} -> %s "
                "NOT IN ('null'::jsonb, '\"\"'::jsonb))",
                [key, key],
            )
        if op == Operator.IS_TRUE:
            return Sql(f"({container} -> %s = 'true'::jsonb)", [key])
        if op == Operator.AGE_DAYS:
            return _age_days_sql(
                cond, _json_value_sql(container, key, "text", params), params, as_of
            )
        kind = (
            "number"
            if op in (Operator.GT, Operator.GTE, Operator.LT, Operator.LTE, Operator.BETWEEN)
            else "text"
        )
        expr = _json_value_sql(container, key, kind, params)
    else:
        expr = FIELDS[cond.field].sql
        if op == Operator.IS_SET:
            return Sql(f"({expr} IS NOT NULL)")
        if op == Operator.IS_TRUE:
            return Sql(f"({expr} IS TRUE)")

    if op == Operator.EQUALS:
        return Sql(f"(lower({expr}) = lower(%s))", [*params, str(cond.value)])
    if op == Operator.IN:
        return Sql(
            f"(lower({expr}) = ANY(SELECT lower(v) FROM unnest(%s::text[]) v))",
            [*params, [str(v) for v in cond.value]],
        )
    if op == Operator.CONTAINS:
        return Sql(f"(strpos(lower({expr}), lower(%s)) > 0)", [*params, str(cond.value)])
    if op in PATTERN_OPERATORS:
        # The pattern spells its cases out (scoring.patterns): matched
        # case-sensitively, as RE2 matches it in the engine.
        assert cond.pattern is not None
        return Sql(f"({expr} ~ %s)", [*params, cond.pattern.sql])
    comparisons: dict[str, str] = {
        Operator.GT: ">",
        Operator.GTE: ">=",
        Operator.LT: "<",
        Operator.LTE: "<=",
    }
    if op in comparisons:
        return Sql(f"({expr} {comparisons[op]} %s::numeric)", [*params, str(cond.value)])
    if op == Operator.BETWEEN:
        low, high = cond.value
        return Sql(f"({expr} BETWEEN %s::numeric AND %s::numeric)", [*params, str(low), str(high)])
    if op == Operator.WITHIN_DAYS:
        since = as_of - timedelta(days=int(cond.value))
        if cond.type == FieldType.DATE:
            return Sql(f"({expr} >= (%s::timestamptz AT TIME ZONE 'UTC')::date)", [*params, since])
        return Sql(f"({expr} >= %s::timestamptz)", [*params, since])
    raise ValueError(f"unknown operator {op!r}")


NO_AGE_LIMIT = 10_000_000


def _age_days_sql(cond: Condition, text: str, params: list[Any], as_of: datetime) -> Sql:
    """scoring.engine's age of an attribute date: the days from its calendar
    day to the day of ``as_of`` in UTC. A text that is no real day is NULL
    (make_date on the first of its month, plus its day, must stay in that
    month), never an error."""
    low, high = cond.value
    y, m, d = (
        f"substr({text}, {start}, {length})::int" for start, length in ((1, 4), (6, 2), (9, 2))
    )
    first = f"make_date({y}, {m}, 1)"
    # Nested CASEs, not AND: PostgreSQL may test AND's sides in any order,
    # and a cast of a text that is no date would fail.
    day = (
        f"(CASE WHEN {text} ~ '^[0-9]{{4}}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])($|T)' "
        f"THEN CASE WHEN {y} >= 1 THEN CASE WHEN extract(month FROM {first} + ({d} - 1)) = {m} "
        f"THEN {first} + ({d} - 1) END END END)"
    )
    # The text expression is written several times: its parameters with it.
    repeated = params * day.count(text)
    age = f"((%s::timestamptz AT TIME ZONE 'UTC')::date - {day})"
    # No upper bound: no date is ten million days old.
    return Sql(
        f"({age} BETWEEN %s AND %s)",
        [as_of, *repeated, low, NO_AGE_LIMIT if high is None else high],
    )


def _activity_match_sql(rule: CompiledRule, as_of: datetime) -> Sql:
    parts = ["act.occurred_at >= %s"]
    params: list[Any] = [as_of - timedelta(days=rule.window_days)]
    if rule.activity_kinds:
        parts.append("act.kind = ANY(%s::text[])")
        params.append(list(rule.activity_kinds))
    if rule.url_pattern is not None:
        parts.append("act.url ~ %s")
        params.append(runnable_pattern(rule.url_pattern_text).sql)
    for cond in rule.property_conditions:
        frag = condition_sql(cond, container="act.properties", as_of=as_of)
        parts.append(frag.text)
        params += frag.params
    return Sql("(" + " AND ".join(parts) + ")", params)


def _term_sql(rule: CompiledRule, as_of: datetime) -> Sql:
    """One matching activity's points in hundredths (see engine.decayed_cents)."""
    if not rule.half_life_days:
        return Sql("%s::bigint", [rule.points * 100])
    return Sql(
        "floor(%s::float8 * power(0.5::float8, GREATEST(0::float8, "
        "extract(epoch FROM (%s::timestamptz - act.occurred_at))::float8) / %s::float8)"
        " + 0.5::float8)::bigint",
        [rule.points * 100.0, as_of, rule.half_life_days * SECONDS_PER_DAY],
    )


def _entry_sql(
    rule_id_sql: str,
    name_sql: str,
    layer: str,
    count: str,
    before: str,
    after: str,
    points: str,
    disqualifies: str,
) -> str:
    return (
        f"jsonb_build_object('rule_id', {rule_id_sql}, 'rule', {name_sql}, 'layer', '{layer}', "
        f"'count', {count}, 'points_before', round(({before})::numeric / 100, 2), "
        f"'points_after_decay', round(({after})::numeric / 100, 2), "
        f"'points', round(({points})::numeric / 100, 2), 'disqualifies', {disqualifies})"
    )


def _bound_entry_sql(
    raw: str, clamped: str, label: str, layer: str, bounds: tuple[int, int]
) -> str:
    name = (
        f"CASE WHEN {raw} > {clamped} THEN '{label} ceiling ({bounds[1]})' "
        f"ELSE '{label} floor ({bounds[0]})' END"
    )
    diff = f"({clamped} - {raw})"
    entry = _entry_sql("NULL::bigint", name, layer, "0", diff, diff, diff, "false")
    return f"CASE WHEN {raw} <> {clamped} THEN {entry} END"


def _once(entry: str, rule: CompiledRule) -> str:
    """A condition rule's line is the same for every lead it fires for: as a
    scalar subquery, PostgreSQL builds it once per statement (an InitPlan)
    rather than once per lead. A line that counts activities stays as is."""
    return f"({entry})" if rule.condition is None else f"(SELECT {entry})"


def scores_sql(model: CompiledModel, *, as_of: datetime, lead_filter: Sql) -> Sql:
    """A SELECT of (lead_id, fit, engagement, total in hundredths, grade,
    disqualified, qualifies, explanation, basis, source_id, fit_only) for the
    leads ``lead_filter`` keeps (fit_only as engine.fit_only). ``basis``
    fingerprints what the score was computed from (see rescore_sql).

    ``lead_filter`` is a condition on the placeholder ``{lead_id}``, e.g.
    ``Sql("{lead_id} BETWEEN %s AND %s", [lo, hi])``.
    """
    return _scores_sql(model, as_of=as_of, lead_filter=lead_filter, stored_model_id=None)


def rescore_sql(
    model: CompiledModel,
    *,
    as_of: datetime,
    lead_filter: Sql,
    key_filter: Sql,
    model_id: int,
    only_changed: bool,
) -> Sql:
    """scores_sql's columns, read against each lead's stored score, plus
    (account_id, stage, had_score, changed), fit_only last. ``key_filter`` is a plain
    condition on ``{lead_id}`` that every lead of ``lead_filter`` meets (its
    id range, or its list of ids), for reading the stored scores by key.

    ``changed`` says whether the new score differs from the stored one: no
    score yet, another version (``model_id`` is the one scoring now), another
    ``basis`` (the counts and points of every rule: everything the numbers and
    the explanation are made of), or another ``qualifies`` (it also depends
    on the lead's source). With ``only_changed`` the explanation, a third of
    the statement's cost, is built only for the changed leads (NULL for the
    others); without it every lead counts as changed.
    """
    return _scores_sql(
        model,
        as_of=as_of,
        lead_filter=lead_filter,
        key_filter=key_filter,
        stored_model_id=model_id,
        only_changed=only_changed,
    )


def _scores_sql(
    model: CompiledModel,
    *,
    as_of: datetime,
    lead_filter: Sql,
    stored_model_id: int | None,
    key_filter: Sql | None = None,
    only_changed: bool = False,
) -> Sql:
    params: list[Any] = []
    eng_columns: list[str] = []
    base_columns: list[str] = []
    fit_terms: list[str] = ["0"]
    eng_terms: list[str] = ["0"]
    dq_terms: list[str] = ["false"]
    entries: list[str] = []
    entry_params: list[Any] = []

    # Activity aggregates (one scan of the chunk's recent activities).
    matches: list[Sql] = []
    for i, rule in enumerate(model.rules):
        if not rule.matches_activities:
            continue
        match = _activity_match_sql(rule, as_of)
        matches.append(match)
        if rule.layer == Layer.DISQUALIFIER:
            eng_columns.append(f"COUNT(*) FILTER (WHERE {match.text}) AS n_{i}")
            params += match.params
            continue
        term = _term_sql(rule, as_of)
        eng_columns.append(f"COUNT(*) FILTER (WHERE {match.text}) AS n_{i}")
        params += match.params
        eng_columns.append(f"SUM({term.text}) FILTER (WHERE {match.text}) AS s_{i}")
        params += term.params + match.params

    eng_sql = ""
    if eng_columns:
        eng_filter = lead_filter.text.format(lead_id="act.lead_id")
        # Only the activities some rule matches are aggregated (most match
        # none: page views, email opens…). A lead whose activities all match
        # nothing has no row here, which counts as zero, as a row of zeros did.
        eng_sql = (
            "WITH eng AS (SELECT act.lead_id, "
            + ", ".join(eng_columns)
            + f" FROM leads_activity act WHERE {eng_filter} AND act.occurred_at >= %s"
            " AND (" + " OR ".join(m.text for m in matches) + ") GROUP BY act.lead_id) "
        )
        params += [*lead_filter.params, as_of - timedelta(days=model.max_window_days)]
        params += [p for m in matches for p in m.params]

    # Eligible when the lead's first source or any later touch's is
    # (scoring.engine.is_eligible).
    base_columns.append(
        "(l.source_id = ANY(%s::bigint[]) OR EXISTS (SELECT 1 FROM leads_leadtouch t "
        "WHERE t.lead_id = l.id AND t.source_id = ANY(%s::bigint[]))) AS eligible"
    )
    eligible_ids = sorted(model.eligible_source_ids)
    params += [eligible_ids, eligible_ids]
    # Per-lead columns: fit-rule hits and activity aggregates. Together they
    # are everything the score and its explanation are computed from.
    basis_terms: list[str] = []
    for i, rule in enumerate(model.rules):
        if rule.condition is not None:
            container = (
                "l.attributes" if rule.condition.field.startswith(ATTRIBUTE_PREFIX) else None
            )
            cond = condition_sql(rule.condition, container=container, as_of=as_of)
            base_columns.append(f"COALESCE({cond.text}, false) AS h_{i}")
            params += cond.params
            basis_terms.append(f"h_{i}::int")
        else:
            base_columns.append(f"COALESCE(e.n_{i}, 0) AS n_{i}")
            basis_terms.append(f"n_{i}")
            if rule.layer != Layer.DISQUALIFIER:
                base_columns.append(f"COALESCE(e.s_{i}, 0)::bigint AS s_{i}")
                basis_terms.append(f"s_{i}")

    for i, rule in enumerate(model.rules):
        name_sql = "%s::text"
        if rule.layer == Layer.DISQUALIFIER:
            hit = f"h_{i}" if rule.condition is not None else f"n_{i} > 0"
            count = "1" if rule.condition is not None else f"n_{i}"
            dq_terms.append(hit)
            entry = _entry_sql("%s::bigint", name_sql, rule.layer, count, "0", "0", "0", "true")
            entries.append(f"CASE WHEN {hit} THEN {_once(entry, rule)} END")
            entry_params += [rule.id, rule.name]
        elif rule.condition is not None:
            cents = rule.points * 100
            fit_terms.append(f"CASE WHEN h_{i} THEN {cents} ELSE 0 END")
            entry = _entry_sql(
                "%s::bigint", name_sql, rule.layer, "1", str(cents), str(cents), str(cents), "false"
            )
            entries.append(f"CASE WHEN h_{i} THEN {_once(entry, rule)} END")
            entry_params += [rule.id, rule.name]
        else:
            if rule.cap is None:
                capped = f"s_{i}"
            elif rule.points >= 0:
                capped = f"LEAST(s_{i}, {rule.cap * 100})"
            else:
                capped = f"GREATEST(s_{i}, {-rule.cap * 100})"
            eng_terms.append(capped)
            entries.append(
                f"CASE WHEN n_{i} > 0 THEN "
                + _entry_sql(
                    "%s::bigint",
                    name_sql,
                    rule.layer,
                    f"n_{i}",
                    f"n_{i} * {rule.points * 100}",
                    f"s_{i}",
                    capped,
                    "false",
                )
                + " END"
            )
            entry_params += [rule.id, rule.name]

    fb, eb, tb = model.fit_bounds, model.engagement_bounds, model.total_bounds
    entries += [
        _bound_entry_sql("fit_raw", "fit", "Fit", "fit", fb),
        _bound_entry_sql("eng_raw", "eng", "Engagement", "engagement", eb),
        _bound_entry_sql("total_raw", "total", "Total", "total", tb),
    ]
    a, b, c = (band * 100 for band in model.grade_bands)
    lead_where = lead_filter.text.format(lead_id="l.id")
    stored_join, stored_columns = "", []
    if stored_model_id is not None:
        assert key_filter is not None  # the changed-only path always gives one
        # The key filter on the stored scores lets PostgreSQL read just their
        # range of the primary key.
        stored_join = (
            "LEFT JOIN scoring_leadscore ls ON ls.lead_id = l.id AND "
            + key_filter.text.format(lead_id="ls.lead_id")
        )
        params += key_filter.params
        stored_columns = [
            "l.account_id",
            "l.stage",
            "ls.lead_id IS NOT NULL AS had_score",
            "ls.model_id AS stored_model_id",
            "ls.basis AS stored_basis",
            "ls.qualifies AS stored_qualifies",
        ]
    base_select = ", ".join(["l.id AS lead_id", "l.source_id", *stored_columns, *base_columns])
    join_eng = "LEFT JOIN eng e ON e.lead_id = l.id" if eng_sql else ""
    explanation = "to_jsonb(array_remove(ARRAY[" + ", ".join(entries) + "]::jsonb[], NULL))"
    columns = "lead_id, fit, eng, total, grade, disqualified, qualifies"
    if stored_model_id is None:
        columns += f", {explanation} AS explanation, basis, source_id"
    elif only_changed:
        changed = (
            f"(NOT had_score OR stored_model_id <> {int(stored_model_id)} "
            "OR stored_basis IS DISTINCT FROM basis OR stored_qualifies <> qualifies)"
        )
        columns += (
            f", CASE WHEN {changed} THEN {explanation} END AS explanation, basis, "
            f"account_id, stage, had_score, {changed} AS changed"
        )
    else:
        columns += (
            f", {explanation} AS explanation, basis, account_id, stage, had_score, true AS changed"
        )
    # Each step ends in OFFSET 0, which keeps PostgreSQL from folding it into
    # the next: folded, every reference to a column (h_i, fit, total…) became
    # a copy of its whole expression, so a rule's regular expression ran once
    # per place its outcome is used, instead of once per lead. The numbers
    # are the same either way; a chunk is scored in about half the time.
    text = (eng_sql + ", base AS (" if eng_sql else "WITH base AS (") + (
        f"SELECT {base_select} FROM leads_lead l "
        "JOIN leads_leadsource src ON src.id = l.source_id "
        f"LEFT JOIN leads_account a ON a.id = l.account_id {join_eng} {stored_join} "
        f"WHERE {lead_where} OFFSET 0), "
        f"parts AS (SELECT base.*, ({' + '.join(fit_terms)})::bigint AS fit_raw, "
        f"({' + '.join(eng_terms)})::bigint AS eng_raw, "
        f"({' OR '.join(dq_terms)}) AS disqualified, "
        f"hash_array_extended(ARRAY[{', '.join(basis_terms)}]::bigint[], 0) AS basis "
        "FROM base OFFSET 0), "
        f"clamped AS (SELECT parts.*, LEAST(GREATEST(fit_raw, {fb[0] * 100}), {fb[1] * 100}) "
        f"AS fit, LEAST(GREATEST(eng_raw, {eb[0] * 100}), {eb[1] * 100}) AS eng FROM parts "
        "OFFSET 0), "
        "totals AS (SELECT clamped.*, fit + eng AS total_raw, "
        f"LEAST(GREATEST(fit + eng, {tb[0] * 100}), {tb[1] * 100}) AS total FROM clamped "
        "OFFSET 0), "
        "judged AS (SELECT totals.*, "
        f"CASE WHEN fit >= {a} THEN 'A' WHEN fit >= {b} THEN 'B' WHEN fit >= {c} THEN 'C' "
        "ELSE 'D' END AS grade, "
        f"(NOT disqualified AND eligible AND fit >= {model.min_fit * 100} "
        f"AND eng >= {model.min_engagement * 100} AND total >= {model.threshold * 100}) "
        f"AS qualifies, (NOT disqualified AND fit >= {model.min_fit * 100} "
        f"AND eng < {model.min_engagement * 100}) AS fit_only "
        f"FROM totals OFFSET 0) SELECT {columns}, fit_only FROM judged"
    )
    params += lead_filter.params
    params += entry_params
    return Sql(text, params)


def rule_matches_sql(rule: CompiledRule, *, as_of: datetime) -> Sql:
    """SELECT how many leads one rule matches now: its field condition, or any
    activity it counts in its window. The rule editor shows it as ops edit."""
    if rule.condition is not None:
        container = "l.attributes" if rule.condition.field.startswith(ATTRIBUTE_PREFIX) else None
        cond = condition_sql(rule.condition, container=container, as_of=as_of)
        return Sql(
            "SELECT count(*) FROM leads_lead l "
            "JOIN leads_leadsource src ON src.id = l.source_id "
            f"LEFT JOIN leads_account a ON a.id = l.account_id WHERE COALESCE({cond.text}, false)",
            cond.params,
        )
    match = _activity_match_sql(rule, as_of)
    return Sql(
        f"SELECT count(DISTINCT act.lead_id) FROM leads_activity act WHERE {match.text}",
        match.params,
    )
