"""Runs the benchmarks named on the command line (all by default), prints a
table and writes each one's findings to bench/results/<name>.json.

    python -m bench [NAME ...] [--strict]

Exit status: 1 when a correctness check failed (or, with --strict, a goal was
missed), 2 on a usage error. Use scripts/run-bench, which starts the throwaway
PostgreSQL and Redis these need; the benchmarks truncate what they write to.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback

from bench.report import Report, table

# name -> module; each module has run() -> Report.
BENCHMARKS = {
    "ingest": "bench.ingest",
    "single_events": "bench.single_events",
    "segment_batch": "bench.segment_batch",
    "recalibration": "bench.recalibration",
    "recalibration_1m": "bench.recalibration_1m",
    "dashboard": "bench.dashboard",
    "duplicates": "bench.duplicates",  # the duplicate search over a million leads
    "load": "bench.load",  # ten minutes of mixed traffic
    "webhooks": "bench.webhooks",  # change to received; 10,000 events to three endpoints
    # Scoring and routing at a million leads (bench.data generates them once per
    # run); the ten-million-lead rescore is the longest, so it comes last.
    "routing": "bench.routing",
    "rescore": "bench.rescore",
    "rescore_10m": "bench.rescore_10m",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"benchmarks to run (default: all): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args(argv)
    names = [n.replace("-", "_") for n in args.names] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    if os.environ.get("HANDOFF_BENCH_THROWAWAY_DB") != "1":
        print(
            "The benchmarks truncate tables: run them with scripts/run-bench, which starts a "
            "throwaway database (it sets HANDOFF_BENCH_THROWAWAY_DB=1).",
            file=sys.stderr,
        )
        return 2

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from bench.common import RESULTS_DIR

    reports: list[Report] = []
    crashed = False
    for name in names:
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        try:
            report = importlib.import_module(BENCHMARKS[name]).run()
        except Exception:
            traceback.print_exc()
            report = Report(name)
            report.check("ran to the end", False, "crashed: see the traceback above")
            crashed = True
        path = report.write(RESULTS_DIR)
        shown = path.relative_to(os.getcwd()) if path.is_relative_to(os.getcwd()) else path
        print(f"   {time.perf_counter() - started:.0f} s, written to {shown}", flush=True)
        reports.append(report)

    print()
    print(table(reports))
    failed = crashed or not all(r.checks_passed for r in reports)
    missed = not all(r.goals_met for r in reports)
    if missed:
        print("\nSome goals were missed (see MISSED above).")
    return 1 if failed or (args.strict and missed) else 0
