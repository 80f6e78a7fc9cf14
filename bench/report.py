"""A benchmark's findings: figures (some with a goal) and correctness checks."""

from __future__ import annotations

import json
import math
import os
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    goal: str = ""
    met: bool | None = None  # None when the figure has no goal


@dataclass
class Check:
    name: str
    passed: bool
    detail: str = ""


@dataclass
class Report:
    name: str
    config: dict[str, Any] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def figure(
        self,
        name: str,
        value: float,
        unit: str,
        *,
        at_least: float | None = None,
        below: float | None = None,
    ) -> Figure:
        goal, met = "", None
        if at_least is not None:
            goal, met = f">= {at_least:g}", value >= at_least
        elif below is not None:
            goal, met = f"< {below:g}", value < below
        fig = Figure(name, value, unit, goal, met)
        self.figures.append(fig)
        return fig

    def check(self, name: str, passed: bool, detail: str = "") -> Check:
        c = Check(name, bool(passed), detail)
        self.checks.append(c)
        return c

    @property
    def checks_passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def goals_met(self) -> bool:
        return all(f.met is not False for f in self.figures)

    def write(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.name}.json"
        data = {
            **asdict(self),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "checks_passed": self.checks_passed,
            "goals_met": self.goals_met,
        }
        path.write_text(json.dumps(data, indent=2, default=str) + "\n")
        return path


def _format(value: float) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.3g}" if abs(value) < 1 else f"{value:,.1f}"


def table(reports: list[Report]) -> str:
    """Every figure of every report, one line each, then every check."""
    figures = [("benchmark", "figure", "value", "unit", "goal", "")]
    checks = [("benchmark", "check", "", "detail")]
    for r in reports:
        for f in r.figures:
            verdict = "" if f.met is None else ("met" if f.met else "MISSED")
            figures.append((r.name, f.name, _format(f.value), f.unit, f.goal, verdict))
        for c in r.checks:
            checks.append((r.name, c.name, "ok" if c.passed else "FAILED", c.detail))
    return _grid(figures, right=2) + "\n\n" + _grid(checks)


def _grid(rows: list[tuple[str, ...]], right: int = -1) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [
            cell.rjust(w) if i == right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths).rstrip())
    return "\n".join(lines)
