"""Score trajectories drawn on the server as SVG (matplotlib): bands shaded, baseline marked.

No Django here: the view passes plain points and bands, and serves the SVG it gets back.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
from matplotlib.figure import Figure

BAND_COLOURS = ("#e3f1e8", "#f3f6d9", "#fbefd5", "#f9dfcf", "#f4d0d0", "#efc4c4")

_STYLE_ELEMENT = re.compile(r'\s*<style type="text/css">\*\{([^}<]*)\}</style>')
_STYLE_ATTRIBUTE = re.compile(r' style="([^"]*)"')
_DECLARATION = re.compile(r"^\s*([a-z\-]+)\s*:\s*([^;\"<>&]*?)\s*$")


@dataclass(frozen=True)
class Point:
    at: datetime
    total: int


@dataclass(frozen=True)
class BandArea:
    low: int
    high: int
    label: str


def trajectory_svg(
    *,
    title: str,
    points: Sequence[Point],
    bands: Sequence[BandArea],
    y_max: int,
    markers: Sequence[tuple[datetime, str]] = (),
) -> str:
    """An SVG line chart of totals over time. The first point is marked as the baseline;
    ``markers`` are vertical lines (e.g. dosing sessions) with a short label."""
    figure = Figure(figsize=(8, 3.6), dpi=100)
    axes = figure.add_subplot()
    for index, band in enumerate(sorted(bands, key=lambda b: b.low)):
        axes.axhspan(band.low - 0.5, band.high + 0.5, color=BAND_COLOURS[index % len(BAND_COLOURS)], zorder=0)
        axes.text(
            1.005,
            (band.low + band.high) / 2,
            band.label,
            transform=axes.get_yaxis_transform(),
            fontsize=8,
            va="center",
            color="#444",
        )
    if points:
        xs = [float(mdates.date2num(p.at)) for p in points]
        ys = [p.total for p in points]
        axes.plot(xs, ys, color="#2f5d8a", marker="o", linewidth=2, zorder=3)
        axes.scatter(
            [xs[0]], [float(ys[0])], s=120, facecolors="none", edgecolors="#1d2430", linewidths=2, zorder=4
        )
        axes.annotate(
            "baseline", (xs[0], float(ys[0])), textcoords="offset points", xytext=(6, 8), fontsize=8
        )
    for when, label in markers:
        x = float(mdates.date2num(when))
        axes.axvline(x, color="#8a5a00", linestyle="--", linewidth=1, zorder=2)
        axes.annotate(
            label, (x, float(y_max)), textcoords="offset points", xytext=(2, -10), fontsize=7, color="#8a5a00"
        )
    axes.set_ylim(-0.5, y_max + 0.5)
    axes.set_ylabel("total score")
    axes.set_title(title, fontsize=11)
    axes.xaxis_date()
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    figure.autofmt_xdate()
    figure.subplots_adjust(right=0.8)
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return without_css(buffer.getvalue())


def _attributes(declarations: str) -> str:
    found = (_DECLARATION.match(d) for d in declarations.split(";") if d.strip())
    return "".join(f' {m.group(1)}="{m.group(2)}"' for m in found if m)


def without_css(svg: str) -> str:
    """matplotlib's styling as SVG presentation attributes (``fill="#fff"`` for ``style="fill: #fff"``),
    so the chart shows under the site's Content-Security-Policy, which allows no inline style.
    The sheet's one rule (``*{stroke-linejoin: round; ...}``) moves to the root element, whence
    those properties are inherited; an element's own attributes still override it."""
    sheet = _STYLE_ELEMENT.search(svg)
    if sheet is not None:
        svg = svg[: sheet.start()] + svg[sheet.end() :]
        svg = svg.replace("<svg ", "<svg" + _attributes(sheet.group(1)) + " ", 1)
    return _STYLE_ATTRIBUTE.sub(lambda m: _attributes(m.group(1)), svg)
