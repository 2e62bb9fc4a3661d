"""Score trajectories drawn on the server as SVG (matplotlib): bands shaded, baseline marked.

No Django here: the view passes plain points and bands, and serves the SVG it gets back.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
from matplotlib.figure import Figure

BAND_COLOURS = ("#e3f1e8", "#f3f6d9", "#fbefd5", "#f9dfcf", "#f4d0d0", "#efc4c4")


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
    return buffer.getvalue()
