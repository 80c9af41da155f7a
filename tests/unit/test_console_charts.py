"""The console's SVG charts: well-formed, scaled to the window, escaped.

Contract: a line chart places its points by time within the last ``window`` seconds and
by value under the largest one, says why it is empty when it is, and a label taken from a
record (a tenant id, a reason) can never inject markup.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from frontdesk.console.charts import Chart, bar_chart, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def test_a_line_chart_places_its_points_in_the_window() -> None:
    now = 10_000.0
    chart = Chart("lag", "events", [(now - 7200, 99.0), (now - 1800, 10.0), (now, 20.0)])
    svg = ET.fromstring(str(line_chart(chart, now=now, window=3600)))
    points = svg.find(f"{SVG}polyline").get("points").split()  # type: ignore[union-attr]
    assert len(points) == 2  # the point older than the window is left out
    (x1, y1), (x2, y2) = (tuple(map(float, p.split(","))) for p in points)
    assert x1 < x2
    assert y2 < y1  # 20 is higher on the chart than 10
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "20" in texts  # the scale's top is the largest value shown
    assert "now 20" in texts


def test_an_empty_chart_says_why() -> None:
    svg = line_chart(Chart("throughput", "offsets/s", [], "shared topic"), now=0, window=60)
    assert "shared topic" in svg
    assert "<polyline" not in svg


def test_labels_from_records_are_escaped() -> None:
    hostile = '<script>alert("x")</script>'
    svg = str(bar_chart("reasons", [(hostile, 3), ("bad_magic", 5)]))
    root = ET.fromstring(svg)  # still well-formed
    assert "<script>" not in svg
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert labels[1] == "bad_magic"  # largest first
    assert len(root.findall(f"{SVG}rect")) == 2
