"""A course's branding (`theme:` in course.yaml) as a stylesheet, with its contrast checked.

The theme reaches the pages as CSS custom properties in a generated file (`assets/course-theme.css`:
the pages' Content-Security-Policy allows no inline style), read after the base theme. Every
pair of text and background colours the theme produces, light and dark, is measured with WCAG
2's contrast ratio at build time; a pair below AA (4.5:1 for text) refuses the theme.
"""

from __future__ import annotations

from dataclasses import dataclass

from builder.model import Theme

#: File name of the generated stylesheet, under the package's assets folder.
STYLESHEET = "course-theme.css"
AA_TEXT = 4.5
#: Images a logo may be (no SVG: it can hold script).
LOGO_SUFFIXES = frozenset((".png", ".jpg", ".jpeg", ".gif", ".webp"))

#: The base theme's colours (templates/static/theme.css) that the accent meets on a page.
LIGHT = {"ink": "#1b1f24", "muted": "#4a5360", "paper": "#ffffff", "soft": "#eef3f8"}
LIGHT_STATUS = {"ok": "#1d6b35", "bad": "#a11a1a", "mark": "#fff1b8"}
#: The dark palette, used when the learner's system asks for dark pages.
DARK = {"ink": "#e6e9ed", "muted": "#aeb7c2", "paper": "#15181c", "soft": "#222930"}
DARK_STATUS = {"ok": "#7fd69b", "bad": "#ff9a8f", "line": "#46505b", "mark": "#4a3f12"}
INK_ON_ACCENT = ("#ffffff", "#111417")


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance of '#rrggbb'."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two '#rrggbb' colours, from 1 to 21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def normalise(colour: str) -> str:
    """'#abc' or '#AABBCC' as '#aabbcc'."""
    colour = colour.lower()
    if len(colour) == 4:
        colour = "#" + "".join(c * 2 for c in colour[1:])
    return colour


def _mix(colour: str, other: str, share: float) -> str:
    """`colour` moved `share` (0..1) of the way towards `other`."""
    a = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(other[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * share):02x}" for x, y in zip(a, b, strict=True))


def ink_on(background: str) -> str:
    """White or near-black, whichever reads better on `background`."""
    return max(INK_ON_ACCENT, key=lambda ink: contrast(ink, background))


def dark_accent(accent: str) -> str:
    """The accent lightened just enough to read on the dark pages' backgrounds."""
    for step in range(21):
        colour = _mix(accent, "#ffffff", step / 20)
        if min(contrast(colour, DARK["paper"]), contrast(colour, DARK["soft"])) >= AA_TEXT:
            return colour
    return "#ffffff"


@dataclass(frozen=True)
class Palette:
    """The colours of one scheme (light or dark) that a theme produces."""

    scheme: str
    values: dict[str, str]

    def pairs(self) -> list[tuple[str, str, str, str]]:
        """(foreground name, colour, background name, colour) of every text the pages show."""
        v = self.values
        out = []
        for fg, bg in (
            ("ink", "paper"),
            ("ink", "soft"),
            ("muted", "paper"),
            ("muted", "soft"),
            ("ok", "paper"),
            ("bad", "paper"),
            ("ink", "mark"),
            ("accent", "paper"),
            ("accent", "soft"),
            ("accent-ink", "accent"),
        ):
            out.append((fg, v[fg], bg, v[bg]))
        return out


def palettes(theme: Theme) -> list[Palette]:
    """The light palette, and the dark one unless the theme turns dark pages off."""
    accent = normalise(theme.accent)
    light = Palette(
        "light", {**LIGHT, **LIGHT_STATUS, "accent": accent, "accent-ink": ink_on(accent)}
    )
    out = [light]
    if theme.dark:
        dark = normalise(theme.accent_dark) if theme.accent_dark else dark_accent(accent)
        out.append(
            Palette("dark", {**DARK, **DARK_STATUS, "accent": dark, "accent-ink": ink_on(dark)})
        )
    return out


#: How the messages name each colour.
_NAMES = {
    "ink": "text",
    "muted": "secondary text",
    "paper": "page background",
    "soft": "tinted background (header, boxes)",
    "ok": "'correct' text",
    "bad": "'not quite' text",
    "mark": "highlight (a note just followed)",
    "accent": "accent (links, tabs, steps)",
    "accent-ink": "text on the accent (selected tab, step numbers)",
}


def contrast_problems(theme: Theme) -> list[tuple[str, str]]:
    """(theme field, message) for every colour pair below AA, in either scheme."""
    out = []
    for palette in palettes(theme):
        for fg, fg_colour, bg, bg_colour in palette.pairs():
            ratio = contrast(fg_colour, bg_colour)
            if ratio < AA_TEXT:
                field = (
                    "accent_dark" if palette.scheme == "dark" and theme.accent_dark else "accent"
                )
                out.append(
                    (
                        field,
                        f"contrast of {_NAMES[fg]} {fg_colour} on {_NAMES[bg]} {bg_colour} is "
                        f"{ratio:.2f}:1 in the {palette.scheme} pages, below WCAG AA "
                        f"({AA_TEXT}:1)",
                    )
                )
    return out


def theme_css(theme: Theme) -> str:
    """The generated stylesheet: the theme's custom properties, font, and dark pages."""
    light, *dark = palettes(theme)
    lines = [
        "/* Generated from course.yaml's theme. */",
        ":root { " + _props(light.values, ("accent", "accent-ink")) + " }",
    ]
    if theme.font:
        lines.append(f"body {{ font-family: {theme.font}; }}")
    lines += [
        ".course-logo { flex: none; block-size: 2.25rem; inline-size: auto; }",
        # Charts are drawn with the base colours: the theme's take their place.
        ".chart-svg { fill: var(--ink); } .chart-svg rect { fill: var(--accent); } "
        ".chart-svg line { stroke: var(--muted); } .chart-svg text[fill] { fill: var(--muted); }",
    ]
    if dark:
        values = dark[0].values
        lines += [
            "@media (prefers-color-scheme: dark) {",
            "  :root { color-scheme: dark; "
            + _props(values, ("ink", "muted", "paper", "soft", "ok", "bad", "line", "mark"))
            + " "
            + _props(values, ("accent", "accent-ink"))
            + " }",
            "  .skip-link { color: var(--paper); }",
            "  img:not(.course-logo) { background: #ffffff; }",
            "}",
        ]
    return "\n".join(lines) + "\n"


def _props(values: dict[str, str], names: tuple[str, ...]) -> str:
    return " ".join(f"--{name}: {values[name]};" for name in names)
