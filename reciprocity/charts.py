"""A crew's score over time as a step chart, laid out here and drawn as SVG by a template:
no JavaScript, nothing from a CDN."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.translation import pgettext

from .selectors import Month

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 68, 12, 14, 58
MAX_X_LABELS = 5


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class StepChart:
    width: int
    height: int
    left: int
    right: float
    top: int
    bottom: float
    zero: float
    path: str
    x_labels: list[Tick]
    y_ticks: list[Tick]
    member_path: str = ""  # one member's line beside the crew's, when asked for

    @property
    def middle_x(self) -> float:
        return (self.left + self.right) / 2

    @property
    def middle_y(self) -> float:
        return (self.top + self.bottom) / 2


def _nice_step(span: int) -> int:
    """A round step (1, 2 or 5 times a power of ten) giving about four intervals."""
    raw = max(span / 4, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


def _signed(points: int) -> str:
    return f"{points:+d}".replace("-", "\u2212") if points else "0"


def step_chart(months: list[Month], member: list[Month] | None = None) -> StepChart | None:
    """Each month is a band; the line holds the running total reached by that month's
    end, stepping up or down where a month gained or lost points. ``member``, one member's
    months in the crew, draws their running total on the same scale."""
    if not months:
        return None
    totals = [m.total for m in months]
    theirs = _aligned(months, member) if member is not None else []
    step = _nice_step(max(*totals, *theirs, 0) - min(*totals, *theirs, 0))
    low = math.floor(min(*totals, *theirs, 0) / step) * step
    high = max(math.ceil(max(*totals, *theirs, 0) / step) * step, low + step)
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM
    band = (right - LEFT) / len(months)

    def y(points: int) -> float:
        return round(bottom - (points - low) / (high - low) * (bottom - TOP), 1)

    def path(values: list[int]) -> str:
        steps = (f"V{y(value)}H{round(LEFT + (i + 1) * band, 1)}" for i, value in enumerate(values))
        return f"M{LEFT},{y(0)}" + "".join(steps)

    every = math.ceil(len(months) / MAX_X_LABELS)
    # Translators: a date format in the letters of Django's date filter; escape literal
    # letters with a backslash. A month on a chart's axis: "Mar 2026".
    month = pgettext("date format", "M Y")
    x_labels = [
        Tick(round(LEFT + (i + 0.5) * band, 1), date_format(m.start, month))
        for i, m in enumerate(months)
        if i % every == 0
    ]
    y_ticks = [Tick(y(value), _signed(value)) for value in range(low, high + 1, step)]
    return StepChart(
        WIDTH,
        HEIGHT,
        LEFT,
        right,
        TOP,
        bottom,
        y(0),
        path(totals),
        x_labels,
        y_ticks,
        path(theirs) if theirs else "",
    )


def _aligned(months: list[Month], member: list[Month]) -> list[int]:
    """The member's running total at the end of each of the crew's months: nothing before
    their first points, their last total after their last."""
    by_start = {m.start: m.total for m in member}
    totals, total = [], 0
    for month in months:
        total = by_start.get(month.start, total)
        totals.append(total)
    return totals
