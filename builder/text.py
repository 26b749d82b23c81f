"""Rules about plain text that every stage shares: addresses a browser would run, and wording
meant for the course's editor or distributor rather than its learners.

Kept below the stages (like `model` and `errors`) so that sources, validate and markdown can
all use them without one stage importing a later one.
"""

from __future__ import annotations

import re

UNSAFE_SCHEMES = frozenset(("javascript", "vbscript", "data", "file"))
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):")
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")


def unsafe_url(url: str) -> bool:
    """True if a browser would run or inline `url` (javascript:, data:, …) instead of fetching."""
    # Browsers ignore control characters and spaces inside a scheme: 'java\tscript:' runs.
    m = _SCHEME.match(_CONTROL.sub("", url).lower())
    return m is not None and m.group(1) in UNSAFE_SCHEMES


#: Wording that addresses whoever publishes or distributes the course, not its learners.
#: (The lookahead on the first letters lets the regex engine skip every other position at once:
#: three times faster over a unit's text, which every build searches.)
FOR_THE_DISTRIBUTOR = re.compile(
    r"(?=[TFbBnN])(?:"
    r"\b(?:TODO|FIXME|TBD)\b"
    r"|(?i:\bbefore (?:distributing|publishing|releasing|you (?:distribute|publish|release))\b)"
    r"|(?i:\bnote (?:to|for) (?:the )?(?:distributor|publisher|editor)s?\b)"
    r")"
)


def meant_for_the_distributor(text: str) -> str | None:
    """The words of `text` that address its distributor or editor (a to-do, a caveat), if any."""
    m = FOR_THE_DISTRIBUTOR.search(text)
    return m.group() if m else None


def distributor_warning(words: str) -> tuple[str, str]:
    """Message and hint of W305."""
    return (
        f"'{words}' reads as a note for whoever edits or distributes the course, and learners "
        "would see it",
        "finish the text, or keep the note in a '::: editor' block (never published) or in "
        "course.yaml's credits.distribution (manifest and facilitator's edition only)",
    )
