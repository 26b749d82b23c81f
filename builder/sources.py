"""Find the files of a course, read YAML with the position of every node, split front matter.

The YAML reader resolves scalars by the YAML 1.2 core rules (only `true`/`false` are booleans,
no implicit dates), refuses duplicate keys, and records where each value was written so that a
later stage can report an error at the author's line.
"""

from __future__ import annotations

import codecs
import dataclasses
import errno
import hashlib
import json
import os
import posixpath
import re
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from builder.errors import Diagnostic
from builder.text import unsafe_url

if TYPE_CHECKING:
    import types


@cache
def _yaml() -> types.ModuleType:
    """PyYAML, imported on first use: a rebuild whose YAML is all in the cache never needs it."""
    import yaml

    return yaml


def _loader() -> type:
    yaml = _yaml()
    # libyaml's loader if PyYAML was built with it (much faster), else the pure-Python one.
    loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return loader


Loc = tuple[str | int, ...]


def texts(data: Any) -> Iterator[tuple[Loc, str]]:
    """Every string value of parsed YAML with its place, visited once, without recursion (a
    file nests at most 64 levels anyway)."""
    stack: list[tuple[Loc, Any]] = [((), data)]
    while stack:
        loc, value = stack.pop()
        if isinstance(value, dict):
            stack += [((*loc, str(k)), v) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [((*loc, i), v) for i, v in enumerate(value)]
        elif isinstance(value, str):
            yield loc, value


#: Largest number of YAML values one file may expand to (aliases can multiply a small file).
MAX_NODES = 200_000
#: Deepest nesting of mappings and lists in one YAML file (course files need fewer than 10).
MAX_DEPTH = 64
#: Largest course file (YAML or Markdown) read; larger files are refused before reading.
MAX_FILE_BYTES = 2 * 1024 * 1024
#: Most values that aliases may repeat in one YAML file, and most characters of text: an alias
#: costs a few bytes but repeats its anchor's whole value for every later stage (a 1.5 MB file
#: once expanded to a 1.5 GB manifest). Course files have little reason to repeat more.
MAX_ALIAS_VALUES = 10_000
MAX_ALIAS_CHARS = 100_000
#: Largest media file packaged, and largest SVG file checked for script (it is parsed whole).
MAX_MEDIA_BYTES = 256 * 1024 * 1024
MAX_SVG_BYTES = 5 * 1024 * 1024

_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")


@dataclass(frozen=True)
class SourceFile:
    """One course file: its parsed data and where each value of it was written."""

    rel: str
    display: str
    data: Any
    positions: Mapping[Loc, tuple[int, int]]
    body: str = ""
    body_line: int = 1
    digest: bytes = b""
    """SHA-256 of the file's bytes as read (what later stages' caches key on)."""
    head_digest: bytes = b""
    """SHA-256 of a unit file's front matter, fences included (all of it but the body)."""

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
    unit_errors: set[str] = field(default_factory=set)
    """Unit files that could not be read (their errors are in `diagnostics`)."""
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def digests(self) -> dict[str, bytes]:
        """SHA-256 of every unit and quiz file read, by path in the course folder."""
        return {rel: src.digest for rel, src in (*self.units.items(), *self.quizzes.items())}

    def metadata_key(self, data: Sequence[SourceFile] = ()) -> bytes:
        """A hash of everything read but the units' Markdown bodies, names included.

        A valid course without its units' bodies is a function of this alone (and of the
        builder's code): it stands for that course in cache keys, far cheaper than the model.
        """
        h = hashlib.sha256(f"{len(self.units)}\0{len(self.quizzes)}\0{len(data)}".encode())
        files = [("course", self.course)] if self.course is not None else []
        files += [("unit", src) for src in self.units.values()]
        files += [("quiz", src) for src in self.quizzes.values()]
        files += [("data", src) for src in data]
        for kind, src in files:
            part = src.head_digest if kind == "unit" else src.digest
            h.update(f"\0{kind}\0{src.rel}\0{src.display}\0".encode() + part)
        return h.digest()

    def display(self, rel: str) -> str:
        """The path of a course file as authors see it in messages."""
        return f"{self.display_root}/{rel}" if self.display_root not in ("", ".") else rel


_CONSTANTS: dict[str, Any] = {
    **dict.fromkeys(("", "~", "null", "Null", "NULL")),
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
}
_NUMBER_START = frozenset("0123456789+-.")
#: Longer numbers stay text: Python refuses to convert over 4,300 digits, and none is meant.
_MAX_NUMBER_CHARS = 100


def _scalar(value: str, style: str | None, tag: str | None) -> Any:
    # Plain scalars have style None (pure-Python loader) or "" (libyaml loader).
    if style or tag == "tag:yaml.org,2002:str":
        return value
    if value in _CONSTANTS:
        return _CONSTANTS[value]
    if value[:1] in _NUMBER_START and len(value) <= _MAX_NUMBER_CHARS:
        if _INT.match(value):
            return int(value)
        if _FLOAT.match(value):
            return float(value)
    return value  # a number too long to be meant as one stays text: the model refuses it


class _Stop(Exception):
    """A limit was hit: the file gets this one diagnostic and is not read further."""

    def __init__(
        self, where: tuple[int, int], code: str, message: str, hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.where = where
        self.code = code
        self.message = message
        self.hint = hint


class _Frame:
    """A mapping or sequence still open while the event stream is read."""

    __slots__ = (
        "anchor",
        "discard",
        "drop",
        "first",
        "first_chars",
        "is_map",
        "key",
        "key_next",
        "loc",
        "mark",
        "value",
    )

    def __init__(
        self, value: Any, loc: Loc, discard: bool, mark: tuple[int, int], first: int, anchor: Any
    ) -> None:
        self.value = value
        self.is_map = isinstance(value, dict)
        self.loc = loc
        self.discard = discard  # inside a refused key or its value: record nothing
        self.mark = mark
        self.first = first  # value count when the frame opened (sizes anchors)
        self.first_chars = 0  # text read when the frame opened (sizes anchors)
        self.anchor: str | None = anchor
        self.key_next = True  # mappings alternate key, value
        self.key = ""
        self.drop = False  # the value of a refused key is read, then dropped


class _Reader:
    """Plain data and a position map from libyaml's event stream, without recursion.

    Events rather than `yaml.compose`: compose recurses in C and crashes the interpreter on
    deeply nested input (a few hundred kilobytes of `[` are enough), and events are faster for
    the thousands of small YAML documents of a large course.
    """

    def __init__(self, display: str, line_offset: int) -> None:
        self.display = display
        self.offset = line_offset
        self.positions: dict[Loc, tuple[int, int]] = {}
        self.diagnostics: list[Diagnostic] = []
        self.count = 0
        self.chars = 0  # characters of scalar text read so far (sizes anchors)
        self.anchors: dict[str, tuple[Any, int, int]] = {}
        self.repeated = 0  # values repeated through aliases
        self.repeated_chars = 0

    def mark(self, event: Any) -> tuple[int, int]:
        m = event.start_mark
        return (m.line + 1 + self.offset, m.column + 1)

    def read(self, text: str) -> Any:
        loader = _loader()(text)
        try:
            return self._events(loader)
        finally:
            loader.dispose()

    def _events(self, loader: Any) -> Any:
        yaml = _yaml()
        stack: list[_Frame] = []
        documents = 0
        root: Any = None
        get_event = loader.get_event
        scalar_event = yaml.ScalarEvent
        offset = self.offset + 1
        while True:
            event = get_event()
            kind = type(event)
            if kind is scalar_event:
                self.count += 1
                if self.count > MAX_NODES:
                    self._count(0, event)
                value = _scalar(event.value, event.style, event.tag)
                self.chars += len(event.value)
                if event.anchor:
                    self.anchors[event.anchor] = (value, 1, len(event.value))
                m = event.start_mark
                mark = (m.line + offset, m.column + 1)
                if not stack:
                    root = value
                    self.positions[()] = mark
                else:
                    self._deliver(stack[-1], value, mark, event.value)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                self._count(1, event)
                if len(stack) >= MAX_DEPTH:
                    raise _Stop(
                        self.mark(event),
                        "E105",
                        f"the YAML is nested more than {MAX_DEPTH} levels deep",
                    )
                mark = self.mark(event)
                loc: Loc = ()
                discard = False
                if not stack:
                    self.positions[()] = mark
                else:
                    parent = stack[-1]
                    discard = parent.discard or parent.drop or (parent.is_map and parent.key_next)
                    if parent.is_map:
                        loc = (*parent.loc, parent.key)
                    else:
                        loc = (*parent.loc, len(parent.value))
                        if not discard:
                            self.positions[loc] = mark
                container: Any = {} if kind is yaml.MappingStartEvent else []
                frame = _Frame(container, loc, discard, mark, self.count, event.anchor)
                frame.first_chars = self.chars
                stack.append(frame)
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                frame = stack.pop()
                if frame.anchor:
                    self.anchors[frame.anchor] = (
                        frame.value,
                        self.count - frame.first + 1,
                        self.chars - frame.first_chars,
                    )
                if not stack:
                    root = frame.value
                else:
                    self._deliver(stack[-1], frame.value, frame.mark, None)
            elif kind is yaml.AliasEvent:
                if event.anchor not in self.anchors:
                    raise _Stop(
                        self.mark(event), "E101", f"YAML syntax: unknown alias *{event.anchor}"
                    )
                value, size, chars = self.anchors[event.anchor]
                # An alias repeats its anchor's whole value: count all of it again, so that a
                # few nested aliases cannot expand into millions of values for later stages.
                self._count(size, event)
                self._repeat(size, chars, event)
                if not stack:
                    root = value
                else:
                    raw = None if isinstance(value, dict | list) else str(value)
                    self._deliver(stack[-1], value, self.mark(event), raw)
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise _Stop(
                        self.mark(event),
                        "E101",
                        "YAML syntax: a second document starts here; a course file holds one",
                    )
            elif kind is yaml.StreamEndEvent:
                return root

    def _repeat(self, size: int, chars: int, event: Any) -> None:
        self.repeated += size
        self.repeated_chars += chars
        self.chars += chars
        if self.repeated > MAX_ALIAS_VALUES or self.repeated_chars > MAX_ALIAS_CHARS:
            raise _Stop(
                self.mark(event),
                "E105",
                f"YAML aliases here repeat more than {MAX_ALIAS_VALUES:,} values or "
                f"{MAX_ALIAS_CHARS:,} characters in all",
                hint="write the values out, or repeat less: aliases multiply what they name",
            )

    def _count(self, size: int, event: Any) -> None:
        self.count += size
        if self.count > MAX_NODES:
            raise _Stop(
                self.mark(event), "E105", f"the YAML expands to more than {MAX_NODES:,} values"
            )

    def _deliver(self, frame: _Frame, value: Any, mark: tuple[int, int], raw: str | None) -> None:
        """Hand a finished value (`raw`: its text, if a scalar) to the mapping or list around it."""
        if not frame.is_map:
            frame.value.append(value)
            if not frame.discard and raw is not None:
                self.positions[(*frame.loc, len(frame.value) - 1)] = mark
            return
        if not frame.key_next:
            if not frame.drop:
                frame.value[frame.key] = value
            frame.key_next, frame.drop = True, False
            return
        frame.key_next = False
        if frame.discard:
            frame.drop = True
            return
        if raw is None:
            self.diagnostics.append(
                Diagnostic(self.display, *mark, "E103", "a key must be plain text")
            )
            frame.drop = True
            return
        key = raw
        at = (*frame.loc, key)
        if key in frame.value:
            first = self.positions[at][0]
            self.diagnostics.append(
                Diagnostic(
                    self.display,
                    *mark,
                    "E104",
                    f"duplicate key '{key}' (first written on line {first})",
                )
            )
            frame.drop = True
            return
        self.positions[at] = mark
        frame.key = key


def _problem_at(text: str, byte_offset: int, line_offset: int) -> tuple[int, int]:
    """Line and column of a byte offset into the UTF-8 form of `text` (libyaml counts bytes)."""
    before = text.encode("utf-8")[:byte_offset].decode("utf-8", "replace")
    line = before.count("\n") + 1
    return line + line_offset, len(before) - (before.rfind("\n") + 1) + 1


def _colon_in_value(line: str) -> tuple[str, str]:
    """Message and hint for a value with ': ' in it, which YAML reads as a second key."""
    key, _, value = line.partition(": ")
    value = value.strip()
    message = "a colon followed by a space inside a value (YAML reads it as a new key)"
    if key.strip() and value and not value.startswith(("'", '"')):
        quoted = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return message, f"put the value in quotes: {key.rstrip()}: {quoted}"
    return message, "put the value in double quotes"


def parse_yaml(
    text: str, display: str, line_offset: int = 0
) -> tuple[Any, dict[Loc, tuple[int, int]], list[Diagnostic]]:
    """Parse one YAML document; return its data, the position map and any diagnostics."""
    yaml = _yaml()
    reader = _Reader(display, line_offset)
    try:
        data = reader.read(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 if mark else 1) + line_offset
        col = mark.column + 1 if mark else 1
        problem = exc.problem or exc.context or "cannot be read"
        if "maximum nesting depth" in problem:  # newer libyaml stops deep nesting itself
            message = f"the YAML is nested more than {MAX_DEPTH} levels deep"
            return None, {}, [Diagnostic(display, line, col, "E105", message)]
        hint = None
        lines = text.split("\n")
        if mark and mark.line < len(lines) and "\t" in lines[mark.line][: mark.column + 1]:
            hint = "indent with spaces, not tabs"
        elif problem in ("did not find expected key", "found unexpected end of stream"):
            hint = "a quote or bracket opened on an earlier line may not be closed"
        elif problem.startswith("mapping values are not allowed") and mark:
            problem, hint = _colon_in_value(lines[mark.line] if mark.line < len(lines) else "")
        return (
            None,
            {},
            [Diagnostic(display, line, col, "E101", f"YAML syntax: {problem}", hint=hint)],
        )
    except yaml.reader.ReaderError as exc:
        line, col = _problem_at(text, exc.position, line_offset)
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return (
            None,
            {},
            [
                Diagnostic(
                    display,
                    line,
                    col,
                    "E101",
                    f"YAML syntax: the control character U+{code:04X} is not allowed",
                    hint="delete it (it is often pasted in by accident)",
                )
            ],
        )
    except yaml.YAMLError as exc:
        return None, {}, [Diagnostic(display, 1 + line_offset, 1, "E101", f"YAML syntax: {exc}")]
    except _Stop as stop:
        return None, {}, [Diagnostic(display, *stop.where, stop.code, stop.message, hint=stop.hint)]
    if not reader.positions:
        reader.positions[()] = (1 + line_offset, 1)
    return data, reader.positions, reader.diagnostics


class ParseCache(Protocol):
    """Stored bytes by key (the build cache): a rebuild parses only the files that changed."""

    def get_raw(self, key: str) -> bytes | None:
        """The bytes stored under `key`, or None."""

    def put_raw(self, key: str, blob: bytes) -> None:
        """Store bytes for the next build."""


Parsed = tuple[Any, Mapping[Loc, tuple[int, int]], list[Diagnostic]]


class _PackedPositions(Mapping[Loc, tuple[int, int]]):
    """A position map kept as JSON until a diagnostic needs it (most files never do)."""

    def __init__(self, text: bytes) -> None:
        self._text = text
        self._map: dict[Loc, tuple[int, int]] | None = None

    def _positions(self) -> dict[Loc, tuple[int, int]]:
        if self._map is None:
            try:
                rows = json.loads(self._text)
                self._map = {tuple(loc): (int(line), int(col)) for loc, line, col in rows}
            except (ValueError, TypeError):  # not what _parse_cached wrote: no positions
                self._map = {}
        return self._map

    def __getitem__(self, loc: Loc) -> tuple[int, int]:
        return self._positions()[loc]

    def __iter__(self) -> Iterator[Loc]:
        return iter(self._positions())

    def __len__(self) -> int:
        return len(self._positions())


def _parse_cached(
    text: str, display: str, line_offset: int, digest: bytes, cache: ParseCache | None
) -> Parsed:
    """parse_yaml, or its result in an earlier build for the same name, offset and `digest` (of
    text that contains the YAML: the file's bytes, or a unit's front matter block)."""
    if cache is None:
        return parse_yaml(text, display, line_offset)
    # The YAML text is a function of what `digest` covers (decoding and the front-matter split
    # are fixed by the builder's code, which the cache file is keyed on).
    key = f"yaml\0{line_offset}\0{digest.hex()}\0{display}"
    blob = cache.get_raw(key)
    if blob is not None:
        hit = _unpack(blob)
        if hit is not None:
            return hit
    result = parse_yaml(text, display, line_offset)
    data, positions, diags = result
    # JSON, kept only if it gives the data back as parsed (not, say, a mapping with number keys);
    # then a line break and the positions as JSON of their own (compact JSON holds no line
    # break), read only if a diagnostic needs them.
    rows = [dataclasses.astuple(d) for d in diags]
    places = [[list(loc), line, col] for loc, (line, col) in positions.items()]
    try:
        packed = json.dumps([data, rows], separators=(",", ":"))
        if json.loads(packed)[0] != data:
            return result
        places_text = json.dumps(places, separators=(",", ":"))
    except ValueError:  # NaN, or text JSON cannot hold
        return result
    cache.put_raw(key, f"{packed}\n{places_text}".encode())
    return result


def _unpack(blob: bytes) -> Parsed | None:
    head, newline, positions = blob.partition(b"\n")
    if not newline:
        return None
    try:
        data, diags = json.loads(head)
        return data, _PackedPositions(positions), [Diagnostic(*d) for d in diags]
    except (ValueError, TypeError):
        return None


def read_text(path: Path, display: str) -> tuple[str | None, list[Diagnostic]]:
    """Read a course file as UTF-8 text with LF line ends (a BOM and CRLF are accepted)."""
    raw, diags = _read_bytes(path, display)
    return _decode(raw, display) if raw is not None else (None, diags)


def _read_file(path: str | Path, display: str) -> tuple[str | None, bytes, list[Diagnostic]]:
    """read_text, and the SHA-256 of the bytes read (what caches key on)."""
    raw, diags = _read_bytes(path, display)
    if raw is None:
        return None, b"", diags
    text, diags = _decode(raw, display)
    return text, hashlib.sha256(raw).digest(), diags


#: Non-blocking, so that opening a FIFO returns at once instead of waiting for a writer.
_READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
)


def file_kind(mode: int) -> str | None:
    """What a file of `st_mode` is, if not a regular file ("a named pipe (FIFO)", …); else None."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a socket" if stat.S_ISSOCK(mode) else "not a regular file"


def not_regular(mode: int, display: str) -> Diagnostic | None:
    """A diagnostic if a file's `st_mode` is not a regular file's (a FIFO, device or folder).

    Such a file is never read: a FIFO would wait for a writer for ever, `/dev/zero` never ends.
    """
    kind = file_kind(mode)
    if kind is None:
        return None
    return Diagnostic(
        display,
        1,
        1,
        "E111",
        f"the file is {kind}, not a regular file; it is not read",
        hint="course files must be ordinary files inside the course folder",
    )


def _read_bytes(path: str | Path, display: str) -> tuple[bytes | None, list[Diagnostic]]:
    try:
        # os-level calls: a large course reads thousands of small files.
        fd = os.open(path, _READ_FLAGS)
        try:
            info = os.fstat(fd)
            odd = not_regular(info.st_mode, display)
            if odd is not None:
                return None, [odd]
            size = info.st_size
            if size > MAX_FILE_BYTES:
                # Refused before reading: a huge file is a mistake, and reading it is slow.
                return None, [
                    Diagnostic(
                        display,
                        1,
                        1,
                        "E109",
                        f"the file is {size / 2**20:.1f} MiB; course files may be at most "
                        f"{MAX_FILE_BYTES // 2**20} MiB",
                        hint="split a long unit into several units; put large material in "
                        "media/ and link to it",
                    )
                ]
            raw = os.read(fd, size + 1)
            if len(raw) <= size:  # the whole file (a regular file reads short only at its end)
                return raw, []
            chunks = [raw]
            while chunks[-1]:  # it grew since fstat: to the end, as a buffered read would
                chunks.append(os.read(fd, 1 << 20))
            return b"".join(chunks), []
        finally:
            os.close(fd)
    except OSError as exc:
        return None, [Diagnostic(display, 1, 1, "E106", f"cannot read the file: {exc.strerror}")]


def _decode(raw: bytes, display: str) -> tuple[str | None, list[Diagnostic]]:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None, [
            Diagnostic(
                display,
                1,
                1,
                "E102",
                "the file is saved as UTF-16, not UTF-8",
                hint="save the file as UTF-8",
            )
        ]
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
    # Editors on Windows write a byte-order mark and CRLF line ends: both are accepted and
    # normalised, so a course gives the same package whichever editor saved it.
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, []


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
    path: str | Path, rel: str, display: str, cache: ParseCache | None = None, parse: bool = True
) -> tuple[SourceFile | None, list[Diagnostic]]:
    """Read and parse one YAML course file (`parse=False`: read it only, data None)."""
    if not parse:
        # Only its digest is wanted (a file that does not decode never validated, so no cache
        # entry can match it: the build that parses it reports the problem).
        raw, diags = _read_bytes(path, display)
        if raw is None:
            return None, diags
        return SourceFile(rel, display, None, {}, digest=hashlib.sha256(raw).digest()), diags
    text, digest, diags = _read_file(path, display)
    if text is None:
        return None, diags
    data, positions, diags = _parse_cached(text, display, 0, digest, cache)
    if data is None and diags:  # unreadable YAML: its own error says enough
        return None, diags
    return SourceFile(rel, display, data, positions, digest=digest), diags


def load_markdown_file(
    path: str | Path, rel: str, display: str, cache: ParseCache | None = None, parse: bool = True
) -> tuple[SourceFile | None, list[Diagnostic]]:
    """Read one Markdown unit file and parse its front matter (`parse=False`: split it only)."""
    text, digest, diags = _read_file(path, display)
    if text is None:
        return None, diags
    parts = split_front_matter(text)
    if parts is None:
        unclosed = _FENCE.match(text) is not None
        return None, [
            Diagnostic(
                display,
                1,
                1,
                "E107",
                "the front matter is not closed" if unclosed else "the file has no front matter",
                hint="end the front matter with a '---' line"
                if unclosed
                else "start the file with a '---' line, the unit's id, title "
                "and kind, and another '---' line",
            )
        ]
    meta, body, body_line = parts
    # The front matter block (fences included): an edit of the body alone keeps its parse.
    head = hashlib.sha256(text[: len(text) - len(body)].encode()).digest()
    if not parse:
        return SourceFile(rel, display, None, {}, body, body_line, digest, head), diags
    data, positions, diags = _parse_cached(meta, display, 1, head, cache)
    if data is None and diags:  # unreadable front matter: its own error says enough
        return None, diags
    return SourceFile(rel, display, data, positions, body, body_line, digest, head), diags


def load_sources(
    root: Path,
    display_root: str | None = None,
    cache: ParseCache | None = None,
    parse: bool = True,
) -> SourceTree:
    """Read course.yaml, every unit file under units/ and every quiz under quizzes/.

    With `cache`, the YAML of files whose bytes an earlier build parsed is not parsed again.
    With `parse=False` no YAML is parsed (every file's data is None): what was read, its
    digests and the units' bodies, for a cache to recognise a course it has seen.
    """
    shown = display_root if display_root is not None else str(root)
    tree = SourceTree(root=root, display_root=shown.rstrip("/") or ".", course=None)
    course_path = root / "course.yaml"
    if not os.path.lexists(course_path):
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
    real_root = root.resolve()
    outside = _outside(course_path, real_root, tree.display("course.yaml"))
    if outside:
        tree.diagnostics.append(outside)
        return tree
    tree.course, diags = load_yaml_file(
        course_path, "course.yaml", tree.display("course.yaml"), cache, parse
    )
    tree.diagnostics += diags
    for folder, suffix, target, loader in (
        ("units", ".md", tree.units, load_markdown_file),
        ("quizzes", ".yaml", tree.quizzes, load_yaml_file),
    ):
        base = root / folder
        if not base.is_dir():
            continue
        where = _Locator(real_root)
        start = os.fspath(base)
        prefix = len(start) + 1
        # Sorted as Paths sort (by parts), without a Python-level comparison per pair.
        for path, entry in sorted(_find(start, suffix), key=lambda found: found[0].split("/")):
            # String work instead of Path methods: a large course has thousands of files.
            inside = path[prefix:]
            rel = f"{folder}/{inside}"
            if _hidden(inside):
                continue
            is_dir, real = where.examine(path, entry)
            if is_dir:
                continue
            if not where.within(real):
                tree.diagnostics.append(_outside_diagnostic(tree.display(rel)))
                (tree.quiz_errors if folder == "quizzes" else tree.unit_errors).add(rel)
                continue
            source, diags = loader(path, rel, tree.display(rel), cache, parse)
            tree.diagnostics += diags
            if source is not None:
                target[rel] = source
            else:
                (tree.quiz_errors if folder == "quizzes" else tree.unit_errors).add(rel)
    return tree


def load_data(
    tree: SourceTree, cache: ParseCache | None = None, parse: bool = True
) -> list[SourceFile]:
    """The data sets in `data/*.yaml` (charts); their read errors join the tree's diagnostics.

    Read as units are: only regular files inside the course folder (`data/` itself may be a
    link only to a folder inside it).
    """
    files: list[SourceFile] = []
    base = tree.root / "data"
    if not base.is_dir():
        return files
    where = _Locator(tree.root.resolve())
    start = os.fspath(base)
    with os.scandir(start) as listing:
        entries = sorted(listing, key=lambda e: e.name)
    for entry in entries:
        if not entry.name.endswith(".yaml") or _hidden(entry.name):
            continue
        path = f"{start}/{entry.name}"
        rel = f"data/{entry.name}"
        is_dir, real = where.examine(path, entry)
        if is_dir:
            continue
        if not where.within(real):
            tree.diagnostics.append(_outside_diagnostic(tree.display(rel)))
            continue
        source, diags = load_yaml_file(path, rel, tree.display(rel), cache, parse)
        tree.diagnostics += diags
        if source is not None:
            files.append(source)
    return files


def media_problem(root: Path, rel: str) -> tuple[str, str] | None:
    """Why the media file `rel` of the course in `root` cannot be packaged: (code, message).

    It must be a regular file (never a FIFO or a device: packaging would hang or never end)
    inside the course folder, of at most MAX_MEDIA_BYTES.
    """
    path = root / rel
    try:
        real = path.resolve()
        info = os.stat(real)
    except (OSError, RuntimeError) as exc:
        return "E106", f"media file '{rel}' cannot be read: {getattr(exc, 'strerror', exc)}"
    if not real.is_relative_to(root.resolve()):
        return "E350", f"'{rel}' is a link to a file outside the course folder"
    kind = file_kind(info.st_mode)
    if kind is not None:
        return "E111", f"media file '{rel}' is {kind}, not a regular file; it is not read"
    if info.st_size > MAX_MEDIA_BYTES:
        return (
            "E109",
            f"media file '{rel}' is {info.st_size / 2**20:.0f} MiB; media files may be at most "
            f"{MAX_MEDIA_BYTES // 2**20} MiB",
        )
    return None


#: Media that a browser runs when the file is opened (at the LMS's origin, once uploaded):
#: packaged only if course.yaml says `allow_active_media: true`.
ACTIVE_SUFFIXES = frozenset(
    ".htm .html .shtml .xht .xhtml .xml .xsl .xslt .js .mjs .svgz .swf .hta .php .vbs .wasm".split()
)
#: SVG elements that run script, embed other documents or pull in active content.
_SVG_ACTIVE = frozenset(
    "script foreignobject iframe embed object handler listener frame frameset base meta link".split(
        " "
    )
)
_SVG_LINK_ATTRS = frozenset(("href", "src", "action", "formaction", "to", "values", "from"))


def active_content(root: Path, rel: str, allow_active: bool = False) -> str | None:
    """Why the media file `rel` would run code in a learner's browser, or None.

    `.html`, `.js`, `.xml` and the like are refused unless `allow_active`; an SVG file is parsed
    (no entities, no network, no DTD) and refused if it holds script, event handlers,
    `javascript:` addresses, embedded documents or a style sheet processing instruction.
    """
    suffix = posixpath.splitext(rel)[1].lower()
    if allow_active:
        return None
    if suffix in ACTIVE_SUFFIXES:
        return (
            f"media file '{rel}' is a {suffix} file, which runs as a web page or script at the "
            "LMS's address when opened"
        )
    if suffix != ".svg":
        return None
    path = root / rel
    if path.stat().st_size > MAX_SVG_BYTES:
        return f"SVG file '{rel}' is over {MAX_SVG_BYTES // 2**20} MiB; it cannot be checked"
    return _svg_problem(path.read_bytes(), rel)


def _svg_problem(raw: bytes, rel: str) -> str | None:
    from lxml import etree  # only for a course with SVG media

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        doc = etree.fromstring(raw, parser).getroottree()
    except etree.XMLSyntaxError as exc:
        return f"SVG file '{rel}' is not well-formed XML ({exc.msg}); it cannot be checked"
    if doc.docinfo.internalDTD is not None:
        return f"SVG file '{rel}' declares a DOCTYPE with entities"
    for node in doc.getroot().itersiblings(preceding=True):
        if isinstance(node, etree._ProcessingInstruction):
            return f"SVG file '{rel}' has a processing instruction <?{node.target!s} …?>"
    for node in doc.iter():
        if isinstance(node, etree._ProcessingInstruction):
            return f"SVG file '{rel}' has a processing instruction <?{node.target!s} …?>"
        if not isinstance(node.tag, str):
            continue
        name = etree.QName(node).localname
        if name.lower() in _SVG_ACTIVE:
            return f"SVG file '{rel}' has a <{name}> element"
        for attr, raw_value in node.attrib.items():
            value = str(raw_value)
            local = etree.QName(attr).localname.lower()
            if local.startswith("on"):
                return f"SVG file '{rel}' has an event handler ({local}=)"
            if local in _SVG_LINK_ATTRS and unsafe_url(value.strip()):
                return f"SVG file '{rel}' has a {value.split(':', 1)[0].strip()}: address"
            target = value.strip().lower().rsplit(":", 1)[-1]
            if local == "attributename" and (target in ("href", "src") or target[:2] == "on"):
                return f"SVG file '{rel}' animates the attribute {value.strip()}"
    return None


#: Errors Path.rglob passes over when a folder cannot be listed (as `_find` does).
_UNLISTABLE = (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP)


def _find(base: str, suffix: str) -> list[tuple[str, os.DirEntry[str]]]:
    """What Path(base).rglob(f"*{suffix}") finds, as paths with their directory entries.

    Names ending with `suffix` (folders included) in `base` and every folder under it, links to
    folders not entered, unlistable folders passed over. Entries carry their type from the
    listing, so a course of thousands of files costs no stat call per file.
    """
    found = []
    folders = [base]
    while folders:
        folder = folders.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except PermissionError:
            continue
        except OSError as exc:
            if exc.errno in _UNLISTABLE:
                continue
            raise
        for entry in entries:
            path = f"{folder}/{entry.name}"
            if entry.name.endswith(suffix):
                found.append((path, entry))
            try:
                if entry.is_dir() and not entry.is_symlink():
                    folders.append(path)
            except OSError as exc:
                if exc.errno not in _UNLISTABLE:
                    raise
    return found


def _hidden(rel: str) -> bool:
    """Hidden folders and files (editor lock files such as `.#unit.md`, `.DS_Store`)."""
    return any(part.startswith(".") for part in rel.split("/"))


class _Locator:
    """Where files really are (links followed), resolving each folder only once."""

    def __init__(self, real_root: Path) -> None:
        self.root = os.fspath(real_root)
        self.prefix = self.root if self.root.endswith("/") else self.root + "/"
        self.folders: dict[str, str] = {}

    def examine(self, path: str, entry: os.DirEntry[str]) -> tuple[bool, str]:
        """Whether `path` (found as `entry`) is a folder, links followed, and its real path."""
        try:
            link = entry.is_symlink()
            is_dir = not link and entry.is_dir(follow_symlinks=False)
        except OSError:
            link = True
        if link:
            return os.path.isdir(path), os.path.realpath(path)
        folder, name = os.path.split(path)
        real = self.folders.get(folder)
        if real is None:
            real = self.folders[folder] = os.path.realpath(folder)
        return is_dir, os.path.join(real, name)

    def within(self, real: str) -> bool:
        """Whether a real path is the course folder or inside it."""
        return real == self.root or real.startswith(self.prefix)


def _outside(path: Path, real_root: Path, display: str) -> Diagnostic | None:
    """A diagnostic if `path` is a link that leads out of the course folder."""
    real = path.resolve()
    if real.is_relative_to(real_root):
        return None
    return _outside_diagnostic(display)


def _outside_diagnostic(display: str) -> Diagnostic:
    return Diagnostic(
        display,
        1,
        1,
        "E110",
        "the file is a link to a file outside the course folder",
        hint="course files are read only from inside the course folder: copy the file in",
    )
