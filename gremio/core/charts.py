"""Charts: the server computes an Apache ECharts option; the browser only draws it.

Each data point may carry the ``url`` of the records behind it;
``gremio/static/gremio/reports.js`` follows it when the bar is clicked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.functional import Promise

PALETTE = ("#1f5fa8", "#2f6f4f", "#a8551f", "#6b3fa0", "#b83232", "#5a6b80")
PREVIOUS_COLOUR = "#c3ccd6"


@dataclass(frozen=True)
class Series:
    name: str | Promise
    values: Sequence[Any]
    urls: Sequence[str | None] = ()
    colour: str = ""
    kind: str = "bar"  # or "line"


def _number(value: Any) -> float | int | None:
    # ECharts draws floats; exact Decimals stay in the table and the exports.
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    return value


def bar_chart(
    categories: Sequence[Any],
    series: Sequence[Series],
    *,
    horizontal: bool = False,
    stacked: bool = False,
) -> dict[str, Any]:
    """``{"option": <ECharts option>, "height": <pixels>}`` for a bar chart."""
    labels = [str(c) for c in categories]
    category_axis: dict[str, Any] = {"type": "category", "data": labels}
    value_axis: dict[str, Any] = {"type": "value"}
    if horizontal:
        category_axis["inverse"] = True  # first row at the top, as in the table
        category_axis["axisLabel"] = {"width": 220, "overflow": "truncate"}
    option_series = []
    for index, one in enumerate(series):
        urls = list(one.urls) or [None] * len(one.values)
        entry: dict[str, Any] = {
            "name": str(one.name),
            "type": one.kind,
            "data": [
                {"value": _number(value), **({"url": url} if url else {})}
                for value, url in zip(one.values, urls, strict=True)
            ],
            "itemStyle": {"color": one.colour or PALETTE[index % len(PALETTE)]},
        }
        if stacked:
            entry["stack"] = "total"
        option_series.append(entry)
    option = {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 0, "show": len(series) > 1},
        "grid": {"left": 8, "right": 24, "top": 36, "bottom": 8, "containLabel": True},
        "xAxis": value_axis if horizontal else category_axis,
        "yAxis": category_axis if horizontal else value_axis,
        "series": option_series,
    }
    height = max(260, 26 * len(labels) + 80) if horizontal else 320
    return {"option": option, "height": min(height, 1400)}
