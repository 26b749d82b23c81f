"""Bar charts of the course's data sets, drawn at build time as inline SVG.

No chart library runs in the browser, and nothing depends on a stylesheet or a `style`
attribute (a Content-Security-Policy forbids inline styles): colours and fonts are SVG
presentation attributes. Every chart has an accessible name and description, and the data table
next to it is its text alternative.
"""

from __future__ import annotations

from lxml import etree

from builder.model import DataSet

SVG_NS = "http://www.w3.org/2000/svg"

#: A narrow drawing: each label sits above its bar, so the chart stays legible when a phone
#: shows it at about 300 px (the stylesheet never lets it shrink below that; it scrolls instead).
WIDTH = 360
LINE = 21
BAR = 18
GAP = 12
TOP = 4
#: Rough advance of one character at FONT_SIZE, to wrap text without a font at hand.
CHAR_WIDTH = 9.3
FONT_SIZE = "17"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
INK = "#1b1f24"
MUTED = "#4a5360"
BAR_FILL = "#0b5cad"


def _num(x: float) -> str:
    """A coordinate with one decimal and no trailing zeros, so output is stable and short."""
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _svg(
    parent: etree._Element | None, tag: str, text: str | None = None, **attrs: str
) -> etree._Element:
    qtag = f"{{{SVG_NS}}}{tag}"
    if parent is None:
        node = etree.Element(qtag, nsmap={None: SVG_NS})  # type: ignore[dict-item]
    else:
        node = etree.SubElement(parent, qtag)
    for key, value in attrs.items():
        node.set(key.rstrip("_").replace("_", "-"), value)
    if text is not None:
        node.text = text
    return node


def description(ds: DataSet) -> str:
    """One sentence a screen reader announces for the chart: what it shows, every value."""
    # "12.4% of the population", but "30 homicides per 100,000 population".
    space = "" if ds.unit.startswith("%") else " "
    values = "; ".join(f"{r.label}: {ds.value_text(r.value)}{space}{ds.unit}" for r in ds.rows)
    return f"Bar chart. {values}. The same figures are in the table that follows."


def _wrap(text: str, width: float) -> list[str]:
    """`text` in lines of at most `width` user units, broken between words (no clipped labels)."""
    room = max(1, int(width / CHAR_WIDTH))
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= room:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _text_lines(parent: etree._Element, lines: list[str], y: float, **attrs: str) -> etree._Element:
    """One `text` element; a second line and more as `tspan`s under the first."""
    node = _svg(parent, "text", lines[0] if len(lines) == 1 else None, x="0", y=_num(y), **attrs)
    if len(lines) > 1:
        for i, line in enumerate(lines):
            _svg(node, "tspan", line, x="0", dy="0" if i == 0 else str(LINE))
    return node


def chart_svg(ds: DataSet, prefix: str) -> str:
    """The bar chart of a data set as an inline SVG element: each label above its bar."""
    value_w = max(len(ds.value_text(r.value)) for r in ds.rows) * CHAR_WIDTH + 14
    span = WIDTH - value_w
    top = max((r.value for r in ds.rows), default=0.0)
    vmax = ds.axis_max if ds.axis_max is not None and ds.axis_max >= top else top
    vmax = vmax or 1.0
    title_id, desc_id = f"{prefix}--title", f"{prefix}--desc"
    svg = _svg(
        None,
        "svg",
        role="img",
        aria_labelledby=f"{title_id} {desc_id}",
        class_="chart-svg",
        font_family=FONT,
        font_size=FONT_SIZE,
        fill=INK,
    )
    heading = ds.title + (f" ({ds.period})" if ds.period else "")
    _svg(svg, "title", heading, id=title_id)
    _svg(svg, "desc", description(ds), id=desc_id)
    y = float(TOP)
    first_bar = None
    for row in ds.rows:
        lines = _wrap(row.label, WIDTH)
        _text_lines(svg, lines, y + LINE - 4)
        y += LINE * len(lines) + 2
        first_bar = y if first_bar is None else first_bar
        length = span * row.value / vmax
        _svg(svg, "rect", x="0", y=_num(y), width=_num(length), height=str(BAR), fill=BAR_FILL)
        _svg(
            svg,
            "text",
            ds.value_text(row.value),
            x=_num(length + 6),
            y=_num(y + BAR / 2),
            dominant_baseline="middle",
        )
        y += BAR + GAP
    _svg(
        svg,
        "line",
        x1="0.5",
        y1=_num(first_bar if first_bar is not None else TOP),
        x2="0.5",
        y2=_num(y - GAP),
        stroke=MUTED,
        stroke_width="1",
    )
    measure = _wrap(ds.measure, WIDTH)
    _text_lines(svg, measure, y + LINE - 4, fill=MUTED, font_size="16")
    height = y + LINE * len(measure) + 4
    svg.set("viewBox", f"0 0 {WIDTH} {_num(height)}")
    svg.set("width", str(WIDTH))
    svg.set("height", _num(height))
    return etree.tostring(svg, encoding="unicode")


def _el(
    parent: etree._Element | None, tag: str, text: str | None = None, **attrs: str
) -> etree._Element:
    node = etree.Element(tag) if parent is None else etree.SubElement(parent, tag)
    for key, value in attrs.items():
        node.set(key.rstrip("_"), value)
    if text is not None:
        node.text = text
    return node


def data_table(ds: DataSet) -> str:
    """The data set as an HTML table: the chart's text alternative."""
    table = _el(None, "table", class_="chart-data")
    _el(table, "caption", "Table: " + ds.title + (f" ({ds.period})" if ds.period else ""))
    head = _el(_el(table, "thead"), "tr")
    _el(head, "th", ds.label_heading, scope="col")
    _el(head, "th", ds.measure, scope="col")
    body = _el(table, "tbody")
    for row in ds.rows:
        tr = _el(body, "tr")
        _el(tr, "th", row.label, scope="row")
        _el(tr, "td", ds.value_text(row.value))
    return etree.tostring(table, encoding="unicode", method="html")


def _source(ds: DataSet) -> str:
    para = _el(None, "p", "Source: ", class_="chart-source")
    if ds.url:
        link = _el(para, "a", ds.source, href=ds.url, rel="noopener", target="_blank")
        link.tail = "."
    else:
        para.text = f"Source: {ds.source}."
    out = etree.tostring(para, encoding="unicode", method="html")
    if ds.note:
        out += etree.tostring(_el(None, "p", ds.note, class_="chart-note"), encoding="unicode")
    return out


def chart_html(ds: DataSet, prefix: str) -> str:
    """Caption, SVG chart, data table and source line: the inside of a `::: chart` figure."""
    caption = _el(None, "figcaption", ds.title + (f" ({ds.period})" if ds.period else ""))
    caption.set("class", "chart-title")
    parts = [
        etree.tostring(caption, encoding="unicode", method="html"),
        chart_svg(ds, prefix),
        data_table(ds),
        _source(ds),
    ]
    return "\n".join(parts) + "\n"
