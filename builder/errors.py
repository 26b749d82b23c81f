"""Diagnostics shown to course authors, and the exception that carries them out of a stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem in a course file, located by path, line and column (1-based)."""

    path: str
    line: int
    column: int
    code: str
    message: str
    severity: Severity = "error"
    hint: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.column}"
        text = f"{where}: {self.severity}[{self.code}]: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def as_dict(self) -> dict[str, object]:
        """The diagnostic as plain data, for `--format json`."""
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
        }


class BuildFailed(Exception):
    """Raised by a stage that found content errors; carries every diagnostic it collected."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = sorted(diagnostics)
        super().__init__(f"{len(self.diagnostics)} problem(s) in the course")


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    """True when any diagnostic is an error (warnings alone do not stop a build)."""
    return any(d.severity == "error" for d in diagnostics)
