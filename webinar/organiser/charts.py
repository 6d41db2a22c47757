"""Small server-side SVG charts: no scripts, no CDN, readable by screen readers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT, PAD = 600, 220, 40


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


def bars(rows: list[tuple[str, int]], width: int = WIDTH, row_height: int = 28) -> list[Bar]:
    """Horizontal bars, one per row, scaled to the largest value."""
    largest = max((value for _, value in rows), default=0) or 1
    label_width = 190
    usable = width - label_width - 50
    return [
        Bar(label, value, label_width, index * row_height + 4, usable * value / largest, row_height - 8)
        for index, (label, value) in enumerate(rows)
    ]


def cumulative_line(points: list[tuple[date, int]]) -> dict:
    """The polyline and axis labels of a cumulative sign-ups chart."""
    if not points:
        return {"points": "", "ticks": [], "max": 0, "width": WIDTH, "height": HEIGHT}
    first, last = points[0][0], points[-1][0]
    span = max((last - first).days, 1)
    top = max(count for _, count in points) or 1

    def xy(day: date, count: int) -> tuple[float, float]:
        x = PAD + (WIDTH - 2 * PAD) * (day - first).days / span
        y = HEIGHT - PAD - (HEIGHT - 2 * PAD) * count / top
        return round(x, 1), round(y, 1)

    # A step line: the count holds until the next day with registrations.
    coords, previous = [], 0
    for day, count in points:
        x, y_before = xy(day, previous)
        coords.append(f"{x},{y_before}")
        x, y = xy(day, count)
        coords.append(f"{x},{y}")
        previous = count
    ticks = [(xy(day, 0)[0], day) for day in sorted({first, last})]
    return {"points": " ".join(coords), "ticks": ticks, "max": top, "width": WIDTH, "height": HEIGHT}
