"""Charts drawn on the server as inline SVG: no JavaScript, no chart library, no CDN.

The console must work offline and without a front-end build, and the figures it charts
are a few hundred points at most, so a polyline and a few labels are all a chart needs.
Every text that reaches the SVG is escaped (tenant ids and reasons come from records).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 300, 96
_LEFT, _RIGHT, _TOP, _BOTTOM = 40, 6, 16, 16
"""Room for the value axis labels (left), the title (top) and the time labels (bottom)."""


@dataclass(frozen=True, slots=True)
class Chart:
    """One time series to draw: (seconds since the epoch, value or None for a gap)."""

    title: str
    unit: str
    points: Sequence[tuple[float, float | None]]
    note: str = ""
    """Shown instead of a line when there are no points (why there is nothing to draw)."""


def _fmt(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 100 or value == int(value):
        return f"{value:.0f}"
    return f"{value:.1f}"


def line_chart(chart: Chart, *, now: float, window: float) -> Markup:
    """The series over the last ``window`` seconds up to ``now``, as an ``<svg>`` element."""
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    shown = [(t, v) for t, v in chart.points if v is not None and now - window <= t <= now]
    top = max((v for _t, v in shown), default=0.0)
    top = top if top > 0 else 1.0
    label = f"{chart.title} ({chart.unit})"
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
        f'<text class="chart-title" x="{_LEFT}" y="11">{escape(label)}</text>',
        f'<rect class="chart-frame" x="{_LEFT}" y="{_TOP}" width="{plot_w}" height="{plot_h}"/>',
        f'<text class="chart-axis" x="{_LEFT - 3}" y="{_TOP + 8}" text-anchor="end">'
        f"{_fmt(top)}</text>",
        f'<text class="chart-axis" x="{_LEFT - 3}" y="{_TOP + plot_h}" text-anchor="end">0</text>',
        f'<text class="chart-axis" x="{_LEFT}" y="{HEIGHT - 3}">-{window / 60:.0f}m</text>',
        f'<text class="chart-axis" x="{WIDTH - _RIGHT}" y="{HEIGHT - 3}" '
        f'text-anchor="end">now</text>',
    ]
    if shown:
        coords = " ".join(
            f"{_LEFT + plot_w * (1 - (now - t) / window):.1f},{_TOP + plot_h * (1 - v / top):.1f}"
            for t, v in shown
        )
        parts.append(f'<polyline class="chart-line" points="{coords}"/>')
        last_t, last_v = shown[-1]
        x = _LEFT + plot_w * (1 - (now - last_t) / window)
        y = _TOP + plot_h * (1 - last_v / top)
        parts.append(f'<circle class="chart-dot" cx="{x:.1f}" cy="{y:.1f}" r="2.5"/>')
        parts.append(
            f'<text class="chart-value" x="{WIDTH - _RIGHT}" y="11" text-anchor="end">'
            f"now {escape(_fmt(last_v))}</text>"
        )
    else:
        parts.append(
            f'<text class="chart-empty" x="{_LEFT + plot_w / 2}" y="{_TOP + plot_h / 2 + 4}" '
            f'text-anchor="middle">{escape(chart.note or "no samples yet")}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


BAR_ROW = 18


def bar_chart(title: str, counts: Sequence[tuple[str, int]]) -> Markup:
    """Horizontal bars, one per (label, count), largest first: e.g. dead letters by reason."""
    rows = sorted(counts, key=lambda kv: (-kv[1], kv[0]))
    label_w, width = 150, 460
    height = 20 + BAR_ROW * max(1, len(rows))
    top = max((n for _l, n in rows), default=1) or 1
    bar_room = width - label_w - 50
    parts = [
        f'<svg class="chart bars" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text class="chart-title" x="0" y="12">{escape(title)}</text>',
    ]
    for i, (label, n) in enumerate(rows):
        y = 20 + i * BAR_ROW
        w = max(1.0, bar_room * n / top)
        parts += [
            f'<text class="chart-axis" x="{label_w - 6}" y="{y + 12}" text-anchor="end">'
            f"{escape(label[:28])}</text>",
            f'<rect class="chart-bar" x="{label_w}" y="{y + 2}" width="{w:.1f}" '
            f'height="{BAR_ROW - 5}"/>',
            f'<text class="chart-value" x="{label_w + w + 5:.1f}" y="{y + 12}">{n}</text>',
        ]
    if not rows:
        parts.append('<text class="chart-empty" x="0" y="32">nothing to show</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


__all__ = ["Chart", "bar_chart", "line_chart"]
