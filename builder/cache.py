"""Rendered units by content hash, kept between builds so that a rebuild renders only what changed.

The cache lives in `<out>/.cache/` (git-ignored by its own .gitignore, tagged as a cache folder).
A unit's key hashes everything its rendering depends on: the builder's own code, the unit with
its quiz (and the quiz file's text, for line numbers), the course's list of units and files, its
language and data sets, and the audience and packaging mode. Anything unreadable in the cache is
ignored, so deleting or corrupting it only costs a full render. Only `pipeline` uses it.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from functools import cache
from pathlib import Path

import markdown_it
import mdit_py_plugins

from builder.markdown import Audience
from builder.model import Course, Unit
from builder.render import CachedUnit, Mode

#: Bump when what a cached unit holds changes shape.
FORMAT = 1
CACHE_DIR = ".cache"
_TAG = b"Signature: 8a477f597d28d172789f06886806bc55\n# scorm-builder render cache\n"
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
)

Job = tuple[str, str]


@cache
def code_fingerprint() -> bytes:
    """The builder's own source and its Markdown parser's version: a change renders all anew."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for module in (markdown_it, mdit_py_plugins):
        digest.update(str(module.__version__).encode())
    return digest.digest()


def course_fingerprint(course: Course, course_dir: Path) -> bytes:
    """What every unit's rendering depends on besides the unit itself."""
    digest = hashlib.sha256(code_fingerprint())
    digest.update(str(course_dir.resolve()).encode() + b"\0" + course.language.encode())
    for unit in course.units:
        digest.update(f"\0{unit.file}\0{unit.id}".encode())
    for dataset in course.datasets:
        digest.update(dataset.model_dump_json().encode())
    # Links resolve against the files that exist (and where symlinks lead), not their content.
    for folder, dirs, files in sorted(os.walk(course_dir)):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(folder, name)
            target = os.path.realpath(path) if os.path.islink(path) else ""
            digest.update(f"\0{os.path.relpath(path, course_dir)}\0{target}".encode())
    return digest.digest()


class RenderCache:
    """Rendered units of earlier builds, one file per audience and mode."""

    def __init__(self, folder: Path, course: Course, course_dir: Path) -> None:
        self.folder = folder
        self.course_dir = course_dir
        self.context = course_fingerprint(course, course_dir)
        self.stored: dict[Job, dict[str, CachedUnit]] = {}
        self.used: dict[Job, dict[str, CachedUnit]] = {}

    def _file(self, job: Job) -> Path:
        return self.folder / f"render-{job[0]}-{job[1]}.pickle"

    def key(self, unit: Unit, audience: Audience, mode: Mode) -> str:
        """The content hash of everything `unit`'s rendering depends on."""
        digest = hashlib.sha256(self.context)
        digest.update(f"\0{audience}\0{mode}\0".encode())
        digest.update(unit.model_dump_json().encode())
        if unit.quiz_file:
            try:
                digest.update((self.course_dir / unit.quiz_file).read_bytes())
            except OSError:
                digest.update(b"\0unreadable")
        return digest.hexdigest()

    def _load(self, job: Job) -> dict[str, CachedUnit]:
        if job not in self.stored:
            self.stored[job] = {}
            try:
                with self._file(job).open("rb") as fh:
                    header, entries = pickle.load(fh)
                if header == (FORMAT, code_fingerprint()) and isinstance(entries, dict):
                    self.stored[job] = entries
            except _UNREADABLE:
                pass  # no cache, or a damaged one: render everything
        return self.stored[job]

    def get(self, unit: Unit, audience: Audience, mode: Mode) -> CachedUnit | None:
        """The unit's earlier rendering, if nothing it depends on has changed."""
        job = (audience, mode)
        key = self.key(unit, audience, mode)
        hit = self._load(job).get(key)
        if hit is not None:
            self.used.setdefault(job, {})[key] = hit
        return hit

    def put(self, unit: Unit, audience: Audience, mode: Mode, value: CachedUnit) -> None:
        """Remember a unit's rendering for the next build."""
        self.used.setdefault((audience, mode), {})[self.key(unit, audience, mode)] = value

    def save(self) -> None:
        """Write what this build used (so the cache never grows past one course's units)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / ".gitignore").write_text("*\n", encoding="utf-8")
            (self.folder / "CACHEDIR.TAG").write_bytes(_TAG)
            for job, entries in self.used.items():
                fd, tmp = tempfile.mkstemp(prefix=".render-", suffix=".tmp", dir=self.folder)
                try:
                    with os.fdopen(fd, "wb") as fh:
                        pickle.dump(((FORMAT, code_fingerprint()), entries), fh, protocol=5)
                    os.replace(tmp, self._file(job))
                except BaseException:
                    Path(tmp).unlink(missing_ok=True)
                    raise
        except OSError:
            pass  # a cache that cannot be written only makes the next build slower
