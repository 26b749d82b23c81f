"""Results of earlier builds by content hash, kept so that a rebuild redoes only what changed.

The cache lives in `<out>/.cache/` (git-ignored by its own .gitignore, tagged as a cache folder):
parsed YAML per source file, rendered Markdown per unit (per audience and packaging mode),
finished pages and manifests (deflated, as the zip holds them); compiled templates are the
builder's and kept per user (render.TemplateCode). Every key hashes everything its value depends
on, and every file carries the fingerprint of the builder's code, templates and libraries, so a
changed input or a new builder misses instead of reusing a stale value.

Each kind is kept in a few files (shards), so that a rebuild that changes a few values rewrites
a few files. A file is read whole and checked (length and CRC-32 of its payload) before any of
it is used: a damaged, truncated or foreign file counts as empty, so deleting or corrupting the
cache only costs a slower build, never a different output. Values are stored one by one as
bytes, so a build neither decodes nor re-encodes the ones it does not touch. Only `pipeline`
uses this module.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import marshal
import os
import pickle
import struct
import sys
import tempfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import astuple
from functools import cache
from pathlib import Path
from typing import Any

from builder.errors import Diagnostic
from builder.markdown import Audience
from builder.model import Course, Unit
from builder.package import Deflated
from builder.render import CachedUnit, Mode, Target, pack_unit, templates_dir, unpack_unit
from builder.sources import SourceTree
from builder.validate import charted_datasets

#: Bump when what a cache file holds changes shape.
FORMAT = 2
CACHE_DIR = ".cache"
_TAG = b"Signature: 8a477f597d28d172789f06886806bc55\n# scorm-builder cache\n"
_MAGIC = b"scorm-builder cache\n"
_HEAD = struct.Struct("<QI")  # payload length, CRC-32 of the payload
#: Exceptions a damaged or foreign pickle can raise while loading: all mean "no cache".
_UNREADABLE = (
    OSError,
    EOFError,
    pickle.UnpicklingError,
    AttributeError,
    ImportError,
    IndexError,
    KeyError,
    TypeError,
    ValueError,
    MemoryError,
    struct.error,
)


@cache
def code_fingerprint() -> bytes:
    """The builder's code, templates, Python and library versions: a change misses everything."""
    digest = hashlib.sha256(sys.version.encode() + b"\0" + zlib.ZLIB_RUNTIME_VERSION.encode())
    for name in ("markdown_it", "mdit_py_plugins", "jinja2", "markupsafe", "yaml"):
        digest.update(_library_fingerprint(name))
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
    templates = templates_dir()
    for path in sorted(templates.rglob("*.j2")):
        name = path.relative_to(templates).as_posix()
        digest.update(b"\0" + name.encode() + b"\0" + path.read_bytes())
    return digest.digest()


def _library_fingerprint(name: str) -> bytes:
    """A library's files as installed (size and time of its package's files, compiled ones
    included), without importing it: a build that needs no YAML parsing never loads yaml."""
    module = sys.modules.get(name)
    origin = getattr(module, "__file__", None) if module else None
    if origin is None:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None else None
    if origin is None:
        return f"\0{name}=?".encode()
    folder = os.path.dirname(origin)
    parts = [name]
    with contextlib.suppress(OSError):
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if entry.is_file() and entry.name.endswith((".py", ".so", ".pyd")):
                st = entry.stat()
                parts.append(f"{entry.name}:{st.st_size}:{st.st_mtime_ns}")
    return "\0".join(parts).encode()


class Store:
    """Pickled values by key, in a few cache files (shards) so that a rebuild that changes a few
    values rewrites a few files; each file is read lazily and checked as a whole."""

    def __init__(self, folder: Path, name: str, shards: int = 1) -> None:
        self.files = [folder / f"{name}-{i:x}.pickle" for i in range(shards)]
        self._loaded: list[dict[str, bytes] | None] = [None] * shards
        self._used: list[dict[str, bytes]] = [{} for _ in range(shards)]
        self._changed = [False] * shards

    def _shard(self, key: str) -> int:
        return zlib.crc32(key.encode()) % len(self.files)

    def _entries(self, shard: int) -> dict[str, bytes]:
        loaded = self._loaded[shard]
        if loaded is None:
            loaded = self._loaded[shard] = _read(self.files[shard])
        return loaded

    def holds_any(self) -> bool:
        """Whether an earlier build stored anything here (reading does not count as use)."""
        return any(self._entries(shard) for shard in range(len(self.files)))

    def get_raw(self, key: str) -> bytes | None:
        """The pickled value under `key`, if an earlier build stored one."""
        shard = self._shard(key)
        used = self._used[shard]
        blob = used.get(key)
        if blob is None:
            blob = self._entries(shard).get(key)
            if blob is not None:
                used[key] = blob
        return blob

    def get(self, key: str) -> Any:
        """The value under `key`, or None (never stored, or unreadable)."""
        blob = self.get_raw(key)
        if blob is None:
            return None
        try:
            return pickle.loads(blob)
        except _UNREADABLE:
            shard = self._shard(key)
            self._used[shard].pop(key, None)
            self._changed[shard] = True
            return None

    def put_raw(self, key: str, blob: bytes) -> None:
        """Keep a pickled value for the next build."""
        shard = self._shard(key)
        if self._used[shard].get(key) != blob:
            self._used[shard][key] = blob
            self._changed[shard] = True

    def get_or_make(self, key: str, make: Callable[[], bytes]) -> bytes:
        """The pickled value under `key`; if there is none, `make()`'s, kept for the next build."""
        blob = self.get_raw(key)
        if blob is None:
            blob = make()
            self.put_raw(key, blob)
        return blob

    def put(self, key: str, value: Any) -> None:
        """Keep a value for the next build."""
        self.put_raw(key, pickle.dumps(value, protocol=5))

    def save(self) -> None:
        """Write the values this build used (a store it did not use at all stays as it is)."""
        if all(loaded is None for loaded in self._loaded) and not any(self._used):
            return
        for shard, path in enumerate(self.files):
            used = self._used[shard]
            if self._loaded[shard] is None and not used:
                if path.exists():
                    with contextlib.suppress(OSError):
                        path.unlink()
                continue
            if self._changed[shard] or used.keys() != self._entries(shard).keys():
                _write(path, used)


def _read(path: Path) -> dict[str, bytes]:
    """A cache file's entries; empty if it is missing, damaged or from another builder."""
    try:
        with path.open("rb") as fh:
            raw = fh.read()
        if not raw.startswith(_MAGIC):
            return {}
        length, crc = _HEAD.unpack_from(raw, len(_MAGIC))
        payload = memoryview(raw)[len(_MAGIC) + _HEAD.size :]
        if len(payload) != length or zlib.crc32(payload) != crc:
            return {}
        header, entries = pickle.loads(payload)
    except _UNREADABLE:
        return {}
    if header != (FORMAT, code_fingerprint()) or not isinstance(entries, dict):
        return {}
    if not all(type(k) is str and type(v) is bytes for k, v in entries.items()):
        return {}
    return entries


def _write(path: Path, entries: Mapping[str, bytes]) -> None:
    """Write a cache file atomically; a cache that cannot be written only slows the next build."""
    payload = pickle.dumps(((FORMAT, code_fingerprint()), dict(entries)), protocol=5)
    try:
        folder = path.parent
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "CACHEDIR.TAG").is_file():
            (folder / ".gitignore").write_text("*\n", encoding="utf-8")
            (folder / "CACHEDIR.TAG").write_bytes(_TAG)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(_MAGIC + _HEAD.pack(len(payload), zlib.crc32(payload)))
                fh.write(payload)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass


def digest(*parts: bytes | str) -> str:
    """A key: the SHA-256 of `parts` (their repr, which no two different lists share)."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()


class BuildCache:
    """The stores of one output folder; only `pipeline` uses it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sources = Store(folder, "sources", 8)
        self.courses = Store(folder, "courses")
        self._stores: dict[str, Store] = {}

    def _store(self, name: str) -> Store:
        if name not in self._stores:
            self._stores[name] = Store(self.folder, name, 16)
        return self._stores[name]

    def units(self, audience: Audience, mode: Mode) -> Store:
        """Rendered units of one audience and packaging mode."""
        return self._store(f"units-{audience}-{mode}")

    def pages(self, mode: Mode) -> Store:
        """Deflated pages (and manifests) of one packaging mode."""
        return self._store(f"pages-{mode}")

    def save(self) -> None:
        """Write every store that changed."""
        for store in (self.sources, self.courses, *self._stores.values()):
            store.save()
        # What earlier builder versions kept here and this one never reads: their render
        # cache, and compiled templates (now kept per user, render.TemplateCode).
        for old in [*self.folder.glob("render-*.pickle"), *self.folder.glob("templates-*.pickle")]:
            with contextlib.suppress(OSError):
                old.unlink()


def course_fingerprint(course: Course, course_dir: Path) -> bytes:
    """What every unit's rendering depends on besides the unit itself."""
    h = hashlib.sha256(code_fingerprint())
    h.update(str(course_dir.resolve()).encode() + b"\0" + course.language.encode())
    for unit in course.units:
        h.update(f"\0{unit.file}\0{unit.id}".encode())
    for dataset in course.datasets:
        h.update(dataset.model_dump_json().encode())
    # Links resolve against the files that exist (and where symlinks lead), not their content.
    # (scandir: the entries' types come with the listing, no stat call per file.)
    folders = [os.path.normpath(course_dir)]
    cut = len(folders[0]) if folders[0].endswith("/") else len(folders[0]) + 1
    while folders:
        folder = folders.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:
            h.update(f"\0{folder[cut:]}/?".encode())
            continue
        subfolders = []
        for entry in entries:
            path = entry.path
            link = entry.is_symlink()
            if not link and entry.is_dir(follow_symlinks=False):
                subfolders.append(path)
                continue
            target = os.path.realpath(path) if link else ""
            h.update(f"\0{path[cut:]}\0{target}".encode())
            if entry.name.endswith(".vtt"):  # captions are checked while units render
                with contextlib.suppress(OSError):
                    h.update(hashlib.sha256(Path(path).read_bytes()).digest())
        folders += reversed(subfolders)
    return h.digest()


class RenderCache:
    """Rendered units by content hash (render.UnitCache), kept in a Store."""

    def __init__(
        self,
        stores: BuildCache,
        course: Course,
        course_dir: Path,
        file_digests: Mapping[str, bytes] | None = None,
    ) -> None:
        self.stores = stores
        self.course_dir = course_dir
        self.context = course_fingerprint(course, course_dir)
        self.file_digests = file_digests or {}
        self._keys: dict[tuple[str, str, str], str] = {}

    def key(self, unit: Unit, audience: Audience, mode: Mode) -> str:
        """The content hash of everything `unit`'s rendering depends on."""
        known = self._keys.get((audience, mode, unit.id))
        if known is None:
            known = self._keys[(audience, mode, unit.id)] = self._key(unit, audience, mode)
        return known

    def _key(self, unit: Unit, audience: Audience, mode: Mode) -> str:
        files = [unit.file, unit.quiz_file] if unit.quiz_file else [unit.file]
        if all(f in self.file_digests for f in files):
            # A unit (and its quiz) is made from these files' text alone: hashing what was read
            # is cheaper than serialising the model, and as complete.
            parts: list[bytes | str] = ["files", *(self.file_digests[f] for f in files)]
        else:
            parts = ["model", unit.model_dump_json()]
            if unit.quiz_file:
                try:
                    parts.append((self.course_dir / unit.quiz_file).read_bytes())
                except OSError:
                    parts.append(b"\0unreadable")
        return digest(
            self.context,
            audience,
            mode,
            unit.id,
            unit.file,
            unit.source,
            unit.quiz_file or "",
            unit.quiz_source or "",
            *parts,
        )

    def get(self, unit: Unit, audience: Audience, mode: Mode) -> CachedUnit | None:
        """The unit's earlier rendering, if nothing it depends on has changed."""
        blob = self.stores.units(audience, mode).get_raw(self.key(unit, audience, mode))
        return unpack_unit(blob) if blob is not None else None

    def put(self, unit: Unit, audience: Audience, mode: Mode, value: CachedUnit) -> None:
        """Remember a unit's rendering for the next build."""
        self.put_raw(unit, audience, mode, pack_unit(value))

    def put_raw(self, unit: Unit, audience: Audience, mode: Mode, blob: bytes) -> None:
        """Remember a unit's rendering, already packed (render.pack_unit)."""
        self.stores.units(audience, mode).put_raw(self.key(unit, audience, mode), blob)


# --------------------------------------------------------------------------- entry formats
# Plain data in marshal form: it loads several times faster than pickle.


def _view(course: Course) -> Course:
    """The course without its units' Markdown."""
    units = tuple(u.model_copy(update={"body": ""}) for u in course.units)
    return course.model_copy(update={"units": units})


def course_entry(course: Course, warnings: list[Diagnostic]) -> bytes | None:
    """A course and its warnings as the course cache keeps them, if JSON gives the course back
    exactly (compared field by field)."""
    try:
        view = _view(course)
        text = view.model_dump_json().encode()
        if Course.model_validate_json(text) != view:
            return None
    except ValueError:  # text JSON cannot hold (lone surrogates), or a model that did not load
        return None
    charted = sorted(charted_datasets(u.body for u in course.units))
    return marshal.dumps((text, charted, [astuple(w) for w in warnings]))


def course_from(blob: bytes, scan: SourceTree) -> tuple[Course, Course, list[Diagnostic]] | None:
    """The course a course cache entry holds, with the units' current bodies; that course
    without them (as pages see it); and its warnings."""
    try:
        text, charted, rows = marshal.loads(blob)
        units = []
        view = Course.model_validate_json(text)
        for unit in view.units:
            source = scan.units.get(unit.file)
            if source is None:
                return None
            units.append(unit.model_copy(update={"body": source.body}))
        if charted_datasets(u.body for u in units) != set(charted):
            return None  # the units chart other data sets: W303 may differ
        course = view.model_copy(update={"units": tuple(units)})
        return course, view, [Diagnostic(*row) for row in rows]
    except (EOFError, ValueError, TypeError):
        return None


def pack_deflated(deflated: Deflated) -> bytes:
    """A deflated file as a cache entry."""
    return marshal.dumps((deflated.crc, deflated.size, deflated.stream))


def unpack_deflated(blob: bytes) -> Deflated | None:
    """The file `pack_deflated` packed, or None if `blob` is not one."""
    try:
        crc, size, stream = marshal.loads(blob)
        return Deflated(crc, size, stream)
    except (EOFError, ValueError, TypeError):
        return None


def pack_page(page: Mapping[Target, Deflated]) -> bytes:
    """A page deflated for each target as a cache entry."""
    return marshal.dumps({t: (d.crc, d.size, d.stream) for t, d in page.items()})


def unpack_page(blob: bytes) -> dict[Target, Deflated] | None:
    """The page `pack_page` packed, or None if `blob` is not one."""
    try:
        plain = marshal.loads(blob)
        return {t: Deflated(crc, size, stream) for t, (crc, size, stream) in plain.items()}
    except (EOFError, ValueError, TypeError, AttributeError):
        return None
