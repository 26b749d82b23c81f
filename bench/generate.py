"""Generate a valid course of any size for the benchmark (deterministic for a given seed).

    python bench/generate.py OUT --sessions 1000 [--media-mb 200] [--seed 7]

Each session is about 7 KB of Markdown (headings, paragraphs, lists, a table, footnotes, links to
the next session, callouts, a facilitator block) with a quiz of three questions, so 1,000
sessions give about 7 MB of Markdown and 3,000 questions. With --media-mb, incompressible media
files (video, images, audio, a PDF) of that total size are written to media/ and referenced from
the sessions, as real course media would be.
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

_WORDS = (
    "drug market security organised crime policy state violence trafficking evidence response "
    "harm reduction enforcement corruption community health region border agency capacity "
    "prevention research institution governance supply demand cartel network law justice prison "
    "reform public budget economy development cooperation intelligence money laundering risk "
    "strategy resilience impact report programme training partner civil society"
).split()

#: (file name pattern, share of the media budget): video dominates real course media.
_MEDIA_KINDS = (
    ("video-{}.mp4", 0.6),
    ("photo-{}.jpg", 0.2),
    ("audio-{}.mp3", 0.1),
    ("{}.pdf", 0.1),
)


def _sentence(rng: random.Random, low: int = 8, high: int = 20) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(low, high))]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def _paragraph(rng: random.Random, sentences: int = 5) -> str:
    return " ".join(_sentence(rng) for _ in range(sentences))


def _session_body(rng: random.Random, n: int, total: int, media: list[str]) -> str:
    nxt = f"session-{n + 1}.md" if n < total else "session-1.md"
    parts = [
        "::: facilitator",
        "1. Introduce the aim of the session.",
        "2. Ask the participants what they already know.",
        ":::",
        "",
        _paragraph(rng) + "[^1]",
        "",
        "## Background",
        "",
        _paragraph(rng, 6),
        "",
        _paragraph(rng, 4),
        "",
        "::: key-point",
        _sentence(rng),
        ":::",
        "",
        "## The main issues",
        "",
    ]
    parts += [f"- **{rng.choice(_WORDS)}**: {_sentence(rng, 6, 12)}" for _ in range(5)]
    parts += [
        "",
        _paragraph(rng, 6) + "[^2]",
        "",
        "| factor | effect | evidence |",
        "|---|---|---|",
    ]
    parts += [f"| {rng.choice(_WORDS)} | {_sentence(rng, 3, 6)} | {_sentence(rng, 3, 6)} |"] * 4
    parts += ["", "### A closer look", "", _paragraph(rng, 7), ""]
    if media:
        name = media[(n - 1) % len(media)]
        if name.endswith(".jpg"):
            parts += [f"![A photograph for session {n}](../media/{name})", ""]
        else:
            parts += [f"Download the [material for this session](../media/{name}).", ""]
    parts += [
        "::: example",
        _paragraph(rng, 3),
        ":::",
        "",
        _paragraph(rng, 5),
        "",
        f"See [the next session]({nxt}) and [the background](#background).",
        "",
        "## Summary",
        "",
        _paragraph(rng, 5),
        "",
        "::: quiz",
        ":::",
        "",
        f"[^1]: Author {n} (2014), *{_sentence(rng, 3, 5)}*, <https://example.org/{n}/1>",
        f"[^2]: Author {n} (2016), *{_sentence(rng, 3, 5)}*, <https://example.org/{n}/2>",
        "",
    ]
    return "\n".join(parts)


def _quiz(rng: random.Random, n: int) -> str:
    def text() -> str:
        return _sentence(rng, 5, 10).replace(":", "")

    # The right answers move from session to session, as an author's would (the item-writing
    # checks warn about a right answer always in one place, or always as many right options).
    def options(correct: set[int]) -> str:
        return "\n".join(
            f'      - {{id: {o}, text: "{text()}"{", correct: true" if i in correct else ""}}}'
            for i, o in enumerate("abc")
        )

    choices = options({n % 3})
    multi = options({0, 1} if n % 2 else {0})
    return f"""id: quiz-{n}
title: Check your understanding of session {n}
questions:
  - id: q{n}-choice
    type: single-choice
    prompt: "{text()}"
    options:
{choices}
    feedback:
      correct: "{text()}"
      incorrect: "{text()}"
  - id: q{n}-multi
    type: multiple-response
    prompt: "{text()}"
    options:
{multi}
  - id: q{n}-tf
    type: true-false
    prompt: "{text()}"
    answer: {"true" if n % 2 else "false"}
"""


def write_media(media_dir: Path, total_mb: int, rng: random.Random) -> list[str]:
    """Incompressible files of `total_mb` MiB in all, like real (already compressed) media."""
    media_dir.mkdir(parents=True, exist_ok=True)
    names: list[str] = []
    budget = total_mb << 20
    for pattern, share in _MEDIA_KINDS:
        part = int(budget * share)
        count = 4 if pattern.startswith("video") else 10
        for i in range(1, count + 1):
            name = pattern.format(f"file-{i}" if pattern.startswith("{") else i)
            size = part // count
            with (media_dir / name).open("wb") as fh:
                while size > 0:
                    chunk = min(size, 4 << 20)
                    fh.write(rng.randbytes(chunk))
                    size -= chunk
            names.append(name)
    return names


def generate(out: Path, sessions: int, media_mb: int = 0, seed: int = 7) -> Path:
    """Write a course with `sessions` sessions (and optional media) into `out`; return `out`."""
    rng = random.Random(seed)
    if out.exists():
        shutil.rmtree(out)
    (out / "units").mkdir(parents=True)
    (out / "quizzes").mkdir()
    media = write_media(out / "media", media_mb, rng) if media_mb else []
    units = "\n".join(f"  - session-{n}" for n in range(1, sessions + 1))
    (out / "course.yaml").write_text(
        f"""id: generated-{sessions}
title: "Generated course with {sessions} sessions"
version: "1.0.0"
language: en
description: A generated course for the scorm-builder benchmark.
credits:
  source: scorm-builder benchmark generator
  licence: CC0
reporting:
  status: passed/incomplete
  pass_mark: 80
  assessment: session-{sessions}
# One SCO per session: a single SCO could not save the state of 3,000 questions in SCORM 1.2.
packaging: multi
units:
{units}
""",
        encoding="utf-8",
    )
    for n in range(1, sessions + 1):
        front = (
            f"---\nid: session-{n}\ntitle: 'Session {n} – {_sentence(rng, 3, 6)[:-1]}'\n"
            f"kind: {'assessment' if n == sessions else 'presentation'}\nduration: 20\n"
            f"aim: {_sentence(rng)}\nquiz: quizzes/quiz-{n}.yaml\n---\n\n"
        )
        (out / "units" / f"session-{n}.md").write_text(
            front + _session_body(rng, n, sessions, media), encoding="utf-8"
        )
        (out / "quizzes" / f"quiz-{n}.yaml").write_text(_quiz(rng, n), encoding="utf-8")
    return out


def main() -> None:
    """Command line: generate one course."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--media-mb", type=int, default=0)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    generate(args.out, args.sessions, args.media_mb, args.seed)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
