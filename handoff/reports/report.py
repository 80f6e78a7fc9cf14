"""What every report page's numbers share: the report they come in, and rates."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any


def percent(part: int | Decimal, whole: int | Decimal) -> float | None:
    """``part`` per cent of ``whole``; None when the whole is nothing (no rate)."""
    return float(100 * Decimal(part) / Decimal(whole)) if whole else None


@dataclass(frozen=True)
class Report:
    """Everything one report page shows, read by one selector in a fixed
    number of queries. ``charts`` is what the page's script draws; it reaches
    the page as JSON (``report.charts|json_script``), never as an inline
    script, so the content security policy holds."""

    @property
    def charts(self) -> dict[str, Any]:
        return {}
