"""Recalibration on real data: the X Education lead export.

The file is imported through the normal import with the shipped mapping, then
recalibrated from its Converted column, leaving out the columns sales filled in
after contact. In the same run, on the same features and the same split by
time, an unrounded logistic regression and a histogram gradient-boosting
classifier are trained; the whole-number scorecard is compared with the better.
Goal: the scorecard reaches at least 0.98 of the better model's held-out AUC.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from django.db import connection
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from bench.report import Report
from feedback import scorecard
from feedback.models import Recalibration
from feedback.recalibration import history_dataset, run_recalibration, start_recalibration
from leads.importing import import_leads
from leads.importing.mapping import parse_mapping

ROOT = Path(__file__).resolve().parents[1]


def _data_file() -> Path | None:
    folder = os.environ.get("HANDOFF_SHARED_DATA")
    path = Path(folder) / "x-education" / "Leads.csv" if folder else None
    return path if path and path.exists() else None


def _import(report: Report, path: Path) -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE leads_lead RESTART IDENTITY CASCADE")
    mapping = parse_mapping(
        json.loads((ROOT / "leads" / "mappings" / "x_education.json").read_text())
    )
    started = time.perf_counter()
    with path.open("rb") as file:
        result = import_leads(file=file, mapping=mapping)
    report.figure("import of the file", time.perf_counter() - started, "s")
    report.check(
        "every lead imported",
        result.created == 9240,
        f"{result.created} created, {len(result.errors)} bad rows",
    )


def run() -> Report:
    report = Report("recalibration")
    path = _data_file()
    if path is None:
        report.check(
            "X Education file found",
            False,
            "HANDOFF_SHARED_DATA does not point at the shared data folder: skipped",
        )
        return report
    report.config = {
        "file": "x-education/Leads.csv",
        "split": "70/30 by file order",
        "left out": "Tags, Lead Quality, Asymmetrique x4, Last Notable Activity",
    }
    _import(report, path)

    started = time.perf_counter()
    run_ = start_recalibration(source="history", outcome="known")
    run_recalibration(run_id=run_.pk)
    report.figure("recalibration (import excluded)", time.perf_counter() - started, "s")
    run_.refresh_from_db()
    report.check("a draft was proposed", run_.status == Recalibration.Status.PROPOSED, run_.message)
    if run_.status != Recalibration.Status.PROPOSED:
        return report

    dataset = history_dataset(progress=lambda *_: None)
    split = scorecard.split_by_time(dataset.times)
    x_train, y_train = dataset.x[split.train], dataset.y[split.train]
    x_test, y_test = dataset.x[split.test], dataset.y[split.test]
    logistic = LogisticRegression(max_iter=2000).fit(x_train, y_train)
    boosting = HistGradientBoostingClassifier(random_state=0).fit(x_train, y_train)
    auc_logistic = scorecard.auc(y_test, logistic.decision_function(x_test))
    auc_boosting = scorecard.auc(y_test, boosting.predict_proba(x_test)[:, 1])
    auc_card = run_.report["auc_proposed"]
    best = max(auc_logistic, auc_boosting)

    report.figure("features (candidate conditions)", x_train.shape[1], "")
    report.figure("held-out leads", len(y_test), "")
    report.figure("AUC, whole-number scorecard", auc_card, "")
    report.figure("AUC, unrounded logistic regression", auc_logistic, "")
    report.figure("AUC, gradient boosting", auc_boosting, "")
    report.figure("scorecard / better model", auc_card / best, "ratio", at_least=0.98)
    report.figure("proposed threshold", run_.report["threshold"], "points")
    report.figure("expected acceptance at threshold", run_.report["expected_acceptance"], "")
    report.figure("expected MQL share at threshold", run_.report["expected_mql_share"], "")
    report.check(
        "post-contact columns left out",
        not any("post_contact" in r["rule"] for r in run_.report["rules"]),
    )
    return report
