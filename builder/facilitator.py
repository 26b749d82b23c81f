"""The facilitator's edition: one printable HTML guide with everything, in session order.

The learner packages leave out `::: facilitator` material; this guide keeps it, next to the
learner text, with the timings, every quiz's answer key and the example answers of reflections.
It is a single self-contained file (its CSS is inlined) so it can be mailed and printed.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from builder import __version__
from builder.i18n import catalogue
from builder.model import Course, Unit
from builder.render import (
    RenderedCourse,
    check_ids,
    environment,
    render_inline,
    templates_dir,
)

TEMPLATE = "facilitator.html.j2"
STYLESHEET = "facilitator.css"
#: The interactive blocks' own stylesheet, inlined after the guide's (blocks print as sections).
BLOCKS_STYLESHEET = "blocks.css"
#: Where a unit's quiz goes in its rendered Markdown (see markdown.py, `::: quiz`).
QUIZ_SLOT = '<div class="quiz-slot" data-quiz-slot></div>\n'


#: Unit kinds that are timed parts of a workshop; handouts and assessments are not.
WORKSHOP_KINDS = ("presentation", "activity")


@dataclass(frozen=True)
class Slot:
    """One unit in the running order; sessions get start and end minutes from the start."""

    unit: Unit
    start: int | None
    end: int | None


def schedule(course: Course) -> list[Slot]:
    """The units in course order; workshop sessions back to back with their clock times."""
    slots = []
    clock = 0
    for unit in course.units:
        if unit.kind in WORKSHOP_KINDS:
            slots.append(Slot(unit, clock, clock + unit.duration))
            clock += unit.duration
        else:
            slots.append(Slot(unit, None, None))
    return slots


def workshop_minutes(course: Course) -> int:
    """The length of the workshop: the sessions' durations (handouts are read within them)."""
    return sum(u.duration for u in course.units if u.kind in WORKSHOP_KINDS)


def clock(minutes: int) -> str:
    """Minutes from the start as h:mm, the way a facilitator's running order shows time."""
    return f"{minutes // 60}:{minutes % 60:02d}"


def css_string(text: str) -> Markup:
    """`text` as a quoted CSS string, safe inside a <style> element (for @page headers)."""
    escaped = "".join(
        ch if ch.isalnum() or ch in " .,;:–-_!?'()" else f"\\{ord(ch):x} " for ch in text
    )
    return Markup(f'"{escaped}"')


def render_guide(rendered: RenderedCourse) -> bytes:
    """The guide as UTF-8 HTML; `rendered` must be the facilitator audience in single mode."""
    if rendered.audience != "facilitator":
        raise ValueError("the facilitator's guide needs the facilitator rendering")
    course = rendered.course
    css = "".join(
        (templates_dir() / "static" / name).read_text(encoding="utf-8")
        for name in (STYLESHEET, BLOCKS_STYLESHEET)
    )
    t = catalogue(course.language)
    parts = {}
    for unit in course.units:
        body = rendered.units[unit.id].html
        before, marker, after = body.partition(QUIZ_SLOT)
        parts[unit.id] = (Markup(before), bool(marker), Markup(after))
    html = (
        environment()
        .get_template(TEMPLATE)
        .render(
            course=course,
            t=t,
            html=rendered.units,
            parts=parts,
            intro=rendered.intro,
            schedule=schedule(course),
            clock=clock,
            workshop=workshop_minutes(course),
            inline=lambda text, uid: render_inline(text, rendered.units[uid].inline_links),
            css=Markup(css),
            running_header=css_string(
                f"{course.title} – {catalogue(course.language)['facilitator.title']}"
            ),
            generator=f"scorm-builder {__version__}",
        )
    )
    check_ids(f"{course.id}-facilitator.html", html, course)
    return html.encode("utf-8")
