"""Interface strings: one catalogue per language, chosen by `language` in course.yaml."""

from __future__ import annotations

EN: dict[str, str] = {
    "skip": "Skip to content",
    "contents": "Course contents",
    "home": "Course overview",
    "aim": "Aim",
    "objectives": "Learning objectives",
    "objectives.unit": "By the end of this unit you will be able to",
    "duration": "{n} min",
    "duration.total": "Total learning time: {n} minutes",
    "units": "Units",
    "progress": "Progress",
    "previous": "Previous",
    "next": "Next",
    "exit": "Save and exit",
    "start": "Start the course",
    "resume": "Continue where you left off",
    "restart": "Start again",
    "resume.question": "Welcome back. Do you want to continue where you left off?",
    "standalone": "No learning management system was found: your progress is kept in this "
    "browser only.",
    "lms.error": "Your progress could not be saved to the learning management system. Keep this "
    "window open; the course will try again.",
    "check": "Check answers",
    "retry": "Try again",
    "save.reflection": "Save my answer",
    "saved": "Saved",
    "correct": "Correct",
    "incorrect": "Not quite",
    "partly": "Partly correct",
    "result.score": "You scored {score} %.",
    "result.passed": "You passed (pass mark {pass} %).",
    "result.failed": "You did not reach the pass mark of {pass} %.",
    "attempts.left": "Attempts left: {n}",
    "choose": "Choose…",
    "your.answer": "Your answer",
    "example.answer": "Example answer",
    "footnotes": "Notes",
    "credits": "Credits",
    "status.not-started": "Not started",
    "status.in-progress": "In progress",
    "status.completed": "Completed",
    "status.passed": "Passed",
    "status.failed": "Failed",
    "kind.presentation": "Presentation",
    "kind.activity": "Activity",
    "kind.handout": "Handout",
    "kind.assessment": "Assessment",
    "callout.aim": "Aim",
    "callout.example": "Example",
    "callout.note": "Note",
    "callout.key-point": "Key point",
    "callout.reflection": "Reflect",
    "callout.quote": "Quotation",
    "callout.facilitator": "Facilitator's note",
    "question": "Question {n} of {total}",
    "facilitator.title": "Facilitator's guide",
}

CATALOGUES: dict[str, dict[str, str]] = {"en": EN}


def catalogue(language: str) -> dict[str, str]:
    """The interface strings for a course language, falling back to English per string."""
    base = language.split("-")[0].lower()
    return {**EN, **CATALOGUES.get(base, {})}
