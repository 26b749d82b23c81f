"""Find the files of a course, read YAML with the position of every node, split front matter.

The YAML reader resolves scalars by the YAML 1.2 core rules (only `true`/`false` are booleans,
no implicit dates), refuses duplicate keys, and records where each value was written so that a
later stage can report an error at the author's line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from builder.errors import Diagnostic

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader

Loc = tuple[str | int, ...]

#: Largest number of YAML nodes one file may expand to (anchors can multiply a small file).
MAX_NODES = 200_000

_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}


@dataclass(frozen=True)
class SourceFile:
    """One course file: its parsed data and where each value of it was written."""

    rel: str
    display: str
    data: Any
    positions: dict[Loc, tuple[int, int]]
    body: str = ""
    body_line: int = 1

    def where(self, loc: Loc) -> tuple[int, int]:
        """Line and column of the nearest node at or above `loc`."""
        for end in range(len(loc), -1, -1):
            pos = self.positions.get(tuple(loc[:end]))
            if pos is not None:
                return pos
        return (1, 1)

    def diagnostic(self, loc: Loc, code: str, message: str, **kw: Any) -> Diagnostic:
        """A diagnostic placed at the node `loc` of this file."""
        line, col = self.where(loc)
        return Diagnostic(self.display, line, col, code, message, **kw)


@dataclass
class SourceTree:
    """Everything read from a course folder, before validation."""

    root: Path
    display_root: str
    course: SourceFile | None
    units: dict[str, SourceFile] = field(default_factory=dict)
    quizzes: dict[str, SourceFile] = field(default_factory=dict)
    quiz_errors: set[str] = field(default_factory=set)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def display(self, rel: str) -> str:
        """The path of a course file as authors see it in messages."""
        return f"{self.display_root}/{rel}" if self.display_root not in ("", ".") else rel


def _scalar(node: yaml.ScalarNode) -> Any:
    value = node.value
    # Plain scalars have style None (pure-Python loader) or "" (libyaml loader).
    if node.style or node.tag == "tag:yaml.org,2002:str":
        return value
    if value in _NULLS:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    if _INT.match(value):
        return int(value)
    if _FLOAT.match(value):
        return float(value)
    return value


class _Converter:
    def __init__(self, display: str, line_offset: int) -> None:
        self.display = display
        self.offset = line_offset
        self.positions: dict[Loc, tuple[int, int]] = {}
        self.diagnostics: list[Diagnostic] = []
        self.count = 0

    def mark(self, node: yaml.Node) -> tuple[int, int]:
        return (node.start_mark.line + 1 + self.offset, node.start_mark.column + 1)

    def convert(self, node: yaml.Node, loc: Loc) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge
        if isinstance(node, yaml.ScalarNode):
            return _scalar(node)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, child in enumerate(node.value):
                self.positions[(*loc, i)] = self.mark(child)
                items.append(self.convert(child, (*loc, i)))
            return items
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                line, col = self.mark(key_node)
                self.diagnostics.append(
                    Diagnostic(self.display, line, col, "E103", "a key must be plain text")
                )
                continue
            key = str(key_node.value)
            if key in result:
                line, col = self.mark(key_node)
                first = self.positions[(*loc, key)][0]
                self.diagnostics.append(
                    Diagnostic(
                        self.display,
                        line,
                        col,
                        "E104",
                        f"duplicate key '{key}' (first written on line {first})",
                    )
                )
                continue
            self.positions[(*loc, key)] = self.mark(key_node)
            result[key] = self.convert(value_node, (*loc, key))
        return result


class _TooLarge(Exception):
    pass


def parse_yaml(
    text: str, display: str, line_offset: int = 0
) -> tuple[Any, dict[Loc, tuple[int, int]], list[Diagnostic]]:
    """Parse one YAML document; return its data, the position map and any diagnostics."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 if mark else 1) + line_offset
        col = mark.column + 1 if mark else 1
        problem = exc.problem or exc.context or "cannot be read"
        hint = "indent with spaces, not tabs" if "\t" in problem or "'\\t'" in problem else None
        return (
            None,
            {},
            [Diagnostic(display, line, col, "E101", f"YAML syntax: {problem}", hint=hint)],
        )
    except yaml.YAMLError as exc:
        return None, {}, [Diagnostic(display, 1 + line_offset, 1, "E101", f"YAML syntax: {exc}")]
    if node is None:
        return None, {(): (1 + line_offset, 1)}, []
    conv = _Converter(display, line_offset)
    conv.positions[()] = conv.mark(node)
    try:
        data = conv.convert(node, ())
    except _TooLarge:
        return (
            None,
            {},
            [
                Diagnostic(
                    display,
                    1 + line_offset,
                    1,
                    "E105",
                    f"the YAML expands to more than {MAX_NODES} values",
                )
            ],
        )
    except RecursionError:
        return (
            None,
            {},
            [Diagnostic(display, 1 + line_offset, 1, "E105", "the YAML is nested too deeply")],
        )
    return data, conv.positions, conv.diagnostics


def read_text(path: Path, display: str) -> tuple[str | None, list[Diagnostic]]:
    """Read a course file as UTF-8 text with LF line ends."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Diagnostic(display, 1, 1, "E106", f"cannot read the file: {exc.strerror}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [
            Diagnostic(
                display,
                line,
                col,
                "E102",
                f"byte 0x{raw[exc.start]:02x} is not UTF-8",
                hint="save the file as UTF-8",
            )
        ]
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n"), []


_FENCE = re.compile(r"^---[ \t]*$", re.MULTILINE)
_FENCE_END = re.compile(r"^(---|\.\.\.)[ \t]*$", re.MULTILINE)


def split_front_matter(text: str) -> tuple[str, str, int] | None:
    """Split `---` front matter from a Markdown text: (yaml, body, first body line)."""
    first = _FENCE.match(text)
    if first is None:
        return None
    end = _FENCE_END.search(text, first.end())
    if end is None:
        return None
    meta = text[first.end() + 1 : end.start()]
    body_start = end.end() + 1
    body_line = text.count("\n", 0, min(body_start, len(text))) + 1
    return meta, text[body_start:], body_line


def load_yaml_file(
    path: Path, rel: str, display: str
) -> tuple[SourceFile | None, list[Diagnostic]]:
    """Read and parse one YAML course file."""
    text, diags = read_text(path, display)
    if text is None:
        return None, diags
    data, positions, diags = parse_yaml(text, display)
    if data is None and diags:  # unreadable YAML: its own error says enough
        return None, diags
    return SourceFile(rel, display, data, positions), diags


def load_markdown_file(
    path: Path, rel: str, display: str
) -> tuple[SourceFile | None, list[Diagnostic]]:
    """Read one Markdown unit file and parse its front matter."""
    text, diags = read_text(path, display)
    if text is None:
        return None, diags
    parts = split_front_matter(text)
    if parts is None:
        return None, [
            Diagnostic(
                display,
                1,
                1,
                "E107",
                "the file has no front matter",
                hint="start the file with a '---' line, the unit's id, title "
                "and kind, and another '---' line",
            )
        ]
    meta, body, body_line = parts
    data, positions, diags = parse_yaml(meta, display, line_offset=1)
    return SourceFile(rel, display, data, positions, body, body_line), diags


def load_sources(root: Path, display_root: str | None = None) -> SourceTree:
    """Read course.yaml, every unit file under units/ and every quiz under quizzes/."""
    shown = display_root if display_root is not None else str(root)
    tree = SourceTree(root=root, display_root=shown.rstrip("/") or ".", course=None)
    course_path = root / "course.yaml"
    if not course_path.is_file():
        tree.diagnostics.append(
            Diagnostic(
                tree.display("course.yaml"),
                1,
                1,
                "E100",
                "course.yaml not found",
                hint="run the command on a course folder",
            )
        )
        return tree
    tree.course, diags = load_yaml_file(course_path, "course.yaml", tree.display("course.yaml"))
    tree.diagnostics += diags
    for folder, suffix, target, loader in (
        ("units", ".md", tree.units, load_markdown_file),
        ("quizzes", ".yaml", tree.quizzes, load_yaml_file),
    ):
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob(f"*{suffix}")):
            rel = path.relative_to(root).as_posix()
            source, diags = loader(path, rel, tree.display(rel))
            tree.diagnostics += diags
            if source is not None:
                target[rel] = source
            elif folder == "quizzes":
                tree.quiz_errors.add(rel)
    return tree
