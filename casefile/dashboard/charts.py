"""Chart geometry for server-rendered SVG: the templates only place what is computed here.

No script and no style attribute (the CSP forbids both): sizes and colours are SVG presentation
attributes and classes of ``casefile.css``. Every chart keeps its rows, so the table printed
behind it shows the very same figures and links.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import format_decimal

WIDTH = 640
LABEL_ROW = 16  # a bar's label line above it
BAR = 14
GAP = 10
VALUE_ROOM = 70  # room right of the longest bar for its figure
COLUMN_HEIGHT = 160
AXIS_ROOM = 22
MAX_COLUMN = 32  # a few months stay columns, not one block across the chart


@dataclass
class Segment:
    """One linked part of a bar: its figure, where it goes, and its place in the drawing."""

    label: str
    value: int
    href: str
    css: str = "bar"
    x: float = 0.0
    width: float = 0.0

    @property
    def text(self) -> str:
        return format_decimal(self.value)


@dataclass
class Row:
    """One row of a chart's table and one bar of its drawing (several segments when stacked)."""

    label: str
    segments: list[Segment]
    total_href: str = ""  # a link for the row's total, when it has several segments
    y: float = 0.0
    height: float = 0.0  # for columns

    @property
    def total(self) -> int:
        return sum(segment.value for segment in self.segments)

    @property
    def total_text(self) -> str:
        return format_decimal(self.total)

    @property
    def end(self) -> float:
        return max((segment.x + segment.width for segment in self.segments), default=0.0)


@dataclass
class Tick:
    x: float
    text: str


@dataclass
class Chart:
    """A chart and its table. ``kind`` is "bars" (horizontal, labelled) or "columns" (a time series)."""

    key: str
    title: str
    description: str
    kind: str
    rows: list[Row]
    headers: list[str]  # the table's column heads after the label column
    width: int = WIDTH
    height: int = 0
    ticks: list[Tick] = field(default_factory=list)
    column_width: float = 0.0
    peak_text: str = ""

    @property
    def counted(self) -> bool:
        """Whether any row counts a case: a chart of zeros is left out for a short note."""
        return any(row.total for row in self.rows)


def bars(key: str, title: str, description: str, rows: list[Row], headers: list[str]) -> Chart:
    """Horizontal bars, each with its label above it; stacked segments sit end to end."""
    peak = max((row.total for row in rows), default=0) or 1
    scale = (WIDTH - VALUE_ROOM) / peak
    y = 0.0
    for row in rows:
        row.y = y
        x = 0.0
        for segment in row.segments:
            segment.x = x
            segment.width = segment.value * scale
            x += segment.width
        y += LABEL_ROW + BAR + GAP
    return Chart(key, title, description, "bars", rows, headers, height=max(int(y), 1))


def columns(key: str, title: str, description: str, slots: int, placed: list[tuple[int, Row]], headers: list[str],
            ticks: list[tuple[int, str]]) -> Chart:
    """Vertical columns in ``slots`` places (one per period); only periods with a figure get a row."""
    width = min(WIDTH / max(slots, 1), MAX_COLUMN)
    peak = max((row.total for _index, row in placed), default=0) or 1
    for index, row in placed:
        row.height = row.total * COLUMN_HEIGHT / peak
        row.y = COLUMN_HEIGHT - row.height
        for segment in row.segments:
            segment.x = index * width
            segment.width = max(width - 1, 0.5)
    chart = Chart(key, title, description, "columns", [row for _index, row in placed], headers,
                  height=COLUMN_HEIGHT + AXIS_ROOM, column_width=width, peak_text=format_decimal(peak))
    chart.ticks = [Tick(index * width, text) for index, text in ticks]
    return chart
