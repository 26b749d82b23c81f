"""The build cache: bytes by key in `<out>/.cache/`, so that a rebuild redoes only what changed.

Callers make each key with `key()` from everything the value depends on (content hashes); the
first part of a key names its kind (parsed YAML, a unit's rendering, a page). The entries of
one kind are kept in one file, `<kind>.pack`, rewritten whole when a build changed any of them
(a file per entry costs more to create than a 1,000-session rebuild has to spend). Each entry
carries the SHA-256 of the builder's code, its key and its payload, checked before the entry is
used: a missing, damaged, truncated or foreign entry (or pack) is a miss, so deleting or
corrupting the cache only costs a slower build, never a different output. Values are bytes or
JSON (`get_json`): nothing read from here is unpickled, unmarshalled or executed.

The cache writes only into a real folder of its own: `<out>/.cache` must be a folder (not a
symlink) that the builder created and tagged (CACHEDIR.TAG), inside an output folder that is not
a symlink either; files are opened without following symlinks, relative to that folder, so a
link planted anywhere in the path cannot redirect a write. Anything else means building
without a cache. Writes wait for `save`, which a build calls only once it has succeeded. Only
`pipeline` uses this module; it knows nothing of what the bytes mean.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
import struct
import sys
import time
import zlib
from pathlib import Path
from typing import Any

CACHE_DIR = ".cache"
TAG_FILE = "CACHEDIR.TAG"
#: The standard cache-folder signature (backup tools skip the folder), then our own line.
TAG = b"Signature: 8a477f597d28d172789f06886806bc55\n# scorm-builder build cache\n"
#: The first bytes of a pack file; bump the number when the format changes.
MAGIC = b"scorm-builder cache 3\n"
PACK_SUFFIX = ".pack"
#: Each entry: key length, payload length, SHA-256 of (code, key, payload); then key, payload.
_ENTRY = struct.Struct("<HI32s")
#: A temporary file older than this (seconds) belongs to a build that was killed.
STALE_SECONDS = 600
_TMP_SUFFIX = ".scorm-builder.tmp"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_OPEN_DIR = os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC
#: Files earlier builder versions kept here, never read by this one (removed unread).
_OLD_SUFFIXES = (".pickle", ".marshal")
_KIND = re.compile(r"^[a-z0-9-]+$")


def code_fingerprint(templates: Path, runtime: Path | None = None) -> bytes:
    """The builder's code, runtime scripts (`runtime`: builder/runtime) and templates, Python's
    and the libraries' versions."""
    digest = hashlib.sha256(sys.version.encode() + b"\0" + zlib.ZLIB_RUNTIME_VERSION.encode())
    for name in ("markdown_it", "mdit_py_plugins", "jinja2", "markupsafe", "yaml", "pydantic"):
        digest.update(_library_fingerprint(name))
    own = sorted(Path(__file__).parent.glob("*.py"))
    scripts = sorted((runtime or Path(__file__).parent / "runtime").glob("*.js"))
    for path in [*own, *scripts, *sorted(templates.rglob("*"))]:
        if path.is_file():
            digest.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
    return digest.digest()


def _library_fingerprint(name: str) -> bytes:
    """A library's installed files by name, size and time, found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    origin = spec.origin if spec is not None else None
    if origin is None:
        return f"\0{name}=?".encode()
    parts = [name]
    with contextlib.suppress(OSError), os.scandir(os.path.dirname(origin)) as listing:
        for entry in sorted(listing, key=lambda e: e.name):
            if entry.name.endswith((".py", ".so", ".pyd")) and entry.is_file():
                st = entry.stat()
                parts.append(f"{entry.name}:{st.st_size}:{st.st_mtime_ns}")
    return "\0".join(parts).encode()


def key(kind: str, *parts: bytes | str) -> str:
    """An entry's key: `kind` (lower-case letters, digits, '-') and a SHA-256 of `parts`.

    Each part is length-prefixed, so no two different lists of parts give the same hash.
    """
    if not _KIND.match(kind):
        raise ValueError(f"bad cache kind {kind!r}")
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little") + data)
    return f"{kind}.{h.hexdigest()}"


class NotOurs(Exception):
    """`<out>/.cache` exists but is not a real folder the builder made."""


class Cache:
    """The entries of one output folder's cache (use `Cache.open`).

    A kind's pack is read whole on first use. Writes wait in memory for `save`.
    """

    def __init__(self, out_dir: Path, folder_fd: int | None, code: bytes) -> None:
        self._out_dir = out_dir
        self._fd = folder_fd
        self._code = code
        self._packs: dict[str, dict[str, tuple[bytes, memoryview]]] = {}
        # What this build used, by kind and key: (the payload's digest, if known; the payload).
        self._used: dict[str, dict[str, tuple[bytes | None, bytes]]] = {}
        self._changed: set[str] = set()

    @classmethod
    def open(cls, out_dir: Path, code: bytes) -> Cache | None:
        """The cache of `out_dir` (empty if there is none yet); None if `<out>/.cache` exists
        but is not a real folder of the builder's own, or the output folder is a symlink.

        `code` is the builder's fingerprint (code_fingerprint): part of every entry's check.
        """
        try:
            out_fd = os.open(out_dir, _OPEN_DIR)
        except FileNotFoundError:
            return cls(out_dir, None, code)
        except OSError:
            return None
        try:
            return cls(out_dir, _own_folder(out_fd, create=False), code)
        except NotOurs:
            return None
        finally:
            os.close(out_fd)

    def get(self, name: str) -> bytes | None:
        """The payload stored under `name` (from `key`), if there is a good one."""
        kind = name.partition(".")[0]
        used = self._used.setdefault(kind, {})
        found = self._pack(kind).get(name)
        if found is None:
            return None
        digest, payload = found
        if digest != self._digest(name, payload):
            return None
        data = bytes(payload)
        used[name] = (digest, data)
        return data

    def put(self, name: str, payload: bytes) -> None:
        """Keep `payload` under `name`, written by `save`."""
        kind = name.partition(".")[0]
        self._used.setdefault(kind, {})[name] = (None, payload)
        self._changed.add(kind)

    def get_json(self, name: str) -> Any:
        """The JSON value stored under `name`, or None (missing, damaged or not JSON)."""
        payload = self.get(name)
        if payload is None:
            return None
        try:
            return json.loads(payload)
        except ValueError:  # UnicodeDecodeError and JSONDecodeError included
            return None

    def put_json(self, name: str, value: Any) -> None:
        """Keep `value` as JSON (it must hold only what JSON gives back as it was)."""
        self.put(name, json.dumps(value, separators=(",", ":")).encode())

    def save(self) -> None:
        """Write the pack of every kind whose entries this build changed, holding the entries
        it used (older versions of what it made are dropped); delete what killed builds and
        older builder versions left. A cache that cannot be written only slows later builds."""
        try:
            if self._fd is None:
                self._out_dir.mkdir(parents=True, exist_ok=True)
                out_fd = os.open(self._out_dir, _OPEN_DIR)
                try:
                    self._fd = _own_folder(out_fd, create=True)
                finally:
                    os.close(out_fd)
        except (OSError, NotOurs):
            return
        for kind, used in self._used.items():
            if kind in self._changed or used.keys() != self._pack(kind).keys():
                self._write(kind + PACK_SUFFIX, used)
        self._remove_leftovers()

    def close(self) -> None:
        """Let go of the folder (entries not saved are dropped)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _digest(self, name: str, payload: bytes | memoryview) -> bytes:
        h = hashlib.sha256(self._code)
        h.update(len(name).to_bytes(2, "little") + name.encode())
        h.update(payload)
        return h.digest()

    def _pack(self, kind: str) -> dict[str, tuple[bytes, memoryview]]:
        """The entries of a kind's pack as found (digests unchecked); empty if unreadable."""
        pack = self._packs.get(kind)
        if pack is None:
            pack = self._packs[kind] = _parse(self._read(kind + PACK_SUFFIX))
        return pack

    def _read(self, name: str) -> bytes:
        if self._fd is None:
            return b""
        try:
            fd = os.open(name, os.O_RDONLY | _NOFOLLOW | _CLOEXEC, dir_fd=self._fd)
        except OSError:
            return b""
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return b""
            with os.fdopen(fd, "rb", closefd=False) as fh:
                return fh.read()
        except OSError:
            return b""
        finally:
            os.close(fd)

    def _write(self, name: str, entries: dict[str, tuple[bytes | None, bytes]]) -> None:
        tmp = f".{name}.{os.getpid()}{_TMP_SUFFIX}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _NOFOLLOW | _CLOEXEC
        try:
            fd = os.open(tmp, flags, 0o644, dir_fd=self._fd)
            with os.fdopen(fd, "wb", buffering=1 << 20) as fh:
                fh.write(MAGIC)
                for entry, (digest, payload) in sorted(entries.items()):
                    raw = entry.encode()
                    digest = digest or self._digest(entry, payload)  # known for what was read
                    fh.write(_ENTRY.pack(len(raw), len(payload), digest))
                    fh.write(raw)
                    fh.write(payload)
            os.replace(tmp, name, src_dir_fd=self._fd, dst_dir_fd=self._fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=self._fd)

    def _names(self) -> list[str]:
        try:
            return os.listdir(self._fd) if self._fd is not None else []
        except OSError:
            return []

    def _remove_leftovers(self) -> None:
        """Delete stale temporary files (named by `_write`, untouched for STALE_SECONDS: their
        build was killed) and files of older formats, all unread."""
        now = time.time()
        for name in self._names():
            old = name.endswith(_OLD_SUFFIXES)
            if not old and not (name.startswith(".") and name.endswith(_TMP_SUFFIX)):
                continue
            with contextlib.suppress(OSError):
                st = os.stat(name, dir_fd=self._fd, follow_symlinks=False)
                stale = now - st.st_mtime > STALE_SECONDS
                if not stat.S_ISDIR(st.st_mode) and (old or stale):
                    os.unlink(name, dir_fd=self._fd)


def _parse(raw: bytes) -> dict[str, tuple[bytes, memoryview]]:
    """A pack's entries by key: (the digest it claims, its payload); empty if not a pack, and
    only the entries before any damage."""
    entries: dict[str, tuple[bytes, memoryview]] = {}
    if not raw.startswith(MAGIC):
        return entries
    view = memoryview(raw)
    at = len(MAGIC)
    while at + _ENTRY.size <= len(raw):
        name_len, size, digest = _ENTRY.unpack_from(raw, at)
        at += _ENTRY.size
        end = at + name_len + size
        if end > len(raw):
            break
        try:
            name = raw[at : at + name_len].decode()
        except UnicodeDecodeError:
            break
        entries[name] = (digest, view[at + name_len : end])
        at = end
    return entries


def _own_folder(out_fd: int, create: bool) -> int | None:
    """A descriptor of `.cache` in the folder `out_fd`, if it is a real folder tagged as this
    builder's cache; with `create`, made so if missing. None: missing (not `create`)."""
    if create:
        with contextlib.suppress(FileExistsError):
            os.mkdir(CACHE_DIR, 0o755, dir_fd=out_fd)
            fd = os.open(CACHE_DIR, _OPEN_DIR, dir_fd=out_fd)
            try:
                _write_new(fd, ".gitignore", b"*\n")
                _write_new(fd, TAG_FILE, TAG)
            except OSError:
                os.close(fd)
                raise
            return fd
    try:
        fd = os.open(CACHE_DIR, _OPEN_DIR, dir_fd=out_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:  # a symlink, a file, or not ours to open
        raise NotOurs(CACHE_DIR) from exc
    if not stat.S_ISDIR(os.fstat(fd).st_mode) or not _is_tagged(fd):
        os.close(fd)
        raise NotOurs(CACHE_DIR)
    return fd


def _write_new(folder_fd: int, name: str, data: bytes) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
    with os.fdopen(os.open(name, flags, 0o644, dir_fd=folder_fd), "wb") as fh:
        fh.write(data)


def _is_tagged(folder_fd: int) -> bool:
    try:
        fd = os.open(TAG_FILE, os.O_RDONLY | _NOFOLLOW | _CLOEXEC, dir_fd=folder_fd)
    except OSError:
        return False
    with os.fdopen(fd, "rb") as fh:
        # Earlier versions wrote a different comment line after the same signature.
        return fh.read(len(TAG) + 64).startswith(TAG[: TAG.index(b"\n") + 1] + b"# scorm-builder")
