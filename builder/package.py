"""Ordered entries -> a deterministic zip, written atomically.

Same entries and timestamp give the same bytes: explicit ZipInfo for every entry (fixed date,
mode 0644, Unix creator), sorted names with imsmanifest.xml first. Media that is already
compressed is stored, everything else deflated; large files are streamed, never held in memory.
The zip is written beside its destination and renamed into place, so a failed build never leaves
a partial file and never replaces a good one; what a killed build leaves behind (a hidden
temporary file) is removed by a later build (remove_stale_temp_files).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import struct
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

MANIFEST = "imsmanifest.xml"
#: The metadata file a SCORM 1.2 manifest points to (inline IMS MD cannot be schema-checked).
METADATA12 = "metadata.xml"
#: 1980-01-01, the earliest date a zip entry can hold.
DEFAULT_TIMESTAMP = 315532800
#: The last second a zip entry's date can hold (2107-12-31 23:59:59 UTC).
MAX_TIMESTAMP = 4354819199
#: Already-compressed formats: deflating them costs time and saves nothing.
STORED_SUFFIXES = frozenset(
    (
        ".png .jpg .jpeg .gif .webp .avif .mp4 .m4v .webm .mov .mp3 .m4a .aac .ogg .oga .opus "
        ".woff .woff2 .zip .gz .pdf"
    ).split()
)
_UNSAFE = re.compile(r"[&<>\"'`|:\\\x00-\x1f\x7f]")
#: Temporary files are named `.<output name>.<8 random characters>.scorm-builder.tmp`.
TEMP_SUFFIX = ".scorm-builder.tmp"
#: Temporary files of this builder (earlier versions ended them in `.tmp` alone), by the name
#: of the output they were becoming: a package, a guide or a question bank.
_TEMP_NAME = re.compile(r"^\.[^/]+\.(zip|html|txt|xml)\.[a-z0-9_]{8}(\.scorm-builder)?\.tmp$")
#: A temporary file untouched for this long (seconds) is not being written: its build was killed.
#: (A file being written changes at every 1 MB written.)
STALE_SECONDS = 600
_DEFLATED_HEAD = struct.Struct("<IQ")


@dataclass(frozen=True)
class Deflated:
    """A file's bytes as a zip holds them deflated: the raw stream, CRC-32 and size."""

    crc: int
    size: int
    stream: bytes

    def to_bytes(self) -> bytes:
        """The file as one string of bytes (for the build cache)."""
        return _DEFLATED_HEAD.pack(self.crc, self.size) + self.stream

    @classmethod
    def from_bytes(cls, blob: bytes) -> Deflated | None:
        """What `to_bytes` gave, or None if `blob` is not that."""
        if len(blob) < _DEFLATED_HEAD.size:
            return None
        crc, size = _DEFLATED_HEAD.unpack_from(blob)
        return cls(crc, size, blob[_DEFLATED_HEAD.size :])


def deflate(data: bytes) -> Deflated:
    """Deflate `data` exactly as zipfile does for an entry written in one piece."""
    # zipfile's compressor for ZIP_DEFLATED at the default level, fed once, then flushed.
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return Deflated(zlib.crc32(data), len(data), compressor.compress(data) + compressor.flush())


@dataclass(frozen=True)
class Entry:
    """One file of the package: bytes in memory, already deflated, or a file on disk to stream."""

    name: str
    data: bytes | None = None
    source: Path | None = None
    deflated: Deflated | None = None
    """The deflated bytes of a file (e.g. from the build cache): written as they are."""


def entry_name_problem(name: str) -> str | None:
    """Why `name` cannot be a package entry (Moodle would mangle it), or None if it can."""
    if not name or name.startswith("/") or any(p in ("", ".", "..") for p in name.split("/")):
        return "must be a relative path without '.', '..' or empty parts"
    if not name.isascii():
        return "must be ASCII (LMSs store non-ASCII names differently and links break)"
    bad = _UNSAFE.search(name)
    if bad:
        return f"contains {bad.group()!r}, which Moodle removes from file names, breaking links"
    if name.split("/")[-1].startswith(".") or "__MACOSX" in name:
        return "is a hidden or system file that Moodle skips"
    return None


def timestamp_from_env(environ: dict[str, str] | os._Environ[str]) -> int:
    """The build timestamp: SOURCE_DATE_EPOCH if set and valid, else 1980-01-01."""
    value = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if value.isascii() and value.isdigit() and (len(value) > 12 or int(value) > MAX_TIMESTAMP):
        # Raised rather than clamped: a package dated other than asked would not be reproducible.
        raise ValueError(
            f"SOURCE_DATE_EPOCH={value[:20]}{'…' if len(value) > 20 else ''} is after "
            "2107-12-31, the latest date a zip file can hold"
        )
    try:
        return max(DEFAULT_TIMESTAMP, int(value))
    except ValueError:
        return DEFAULT_TIMESTAMP


def _date(timestamp: int) -> tuple[int, int, int, int, int, int]:
    y, mo, d, h, mi, s = time.gmtime(max(timestamp, DEFAULT_TIMESTAMP))[:6]
    return y, mo, d, h, mi, s


def _info(name: str, date: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=date)
    info.create_system = 3
    info.external_attr = 0o100644 << 16
    stored = os.path.splitext(name)[1].lower() in STORED_SUFFIXES
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    return info


def ordered(entries: Iterable[Entry]) -> list[Entry]:
    """imsmanifest.xml first, then every other entry by name."""
    return sorted(entries, key=lambda e: (e.name != MANIFEST, e.name))


def _write_deflated(zf: zipfile.ZipFile, info: zipfile.ZipInfo, deflated: Deflated) -> None:
    """Add an entry from its deflated bytes, as `zf.writestr` would have written its data.

    The same steps as zipfile's own writer (ZipFile._open_to_write, then _ZipWriteFile.close)
    with the sizes and CRC known up front, so the zip's bytes do not depend on which way an
    entry came in (tests compare cached with uncached builds byte for byte).
    """
    zip64 = deflated.size * 1.05 > zipfile.ZIP64_LIMIT
    if info.compress_type != zipfile.ZIP_DEFLATED or zip64 or not getattr(zf, "_seekable", False):
        # Never for pages (or a zipfile unlike CPython's own): zipfile does it from the data.
        zf.writestr(info, zlib.decompress(deflated.stream, -15))
        return
    info.file_size = deflated.size
    info.compress_size = len(deflated.stream)
    info.CRC = deflated.crc
    info.flag_bits = 0
    fp = zf.fp
    assert fp is not None
    if fp.tell() != zf.start_dir:  # zipfile seeks there; a seek flushes, so only if needed
        fp.seek(zf.start_dir)
    info.header_offset = fp.tell()
    # (zipfile's _writecheck: names are unique and compression supported, write_package checked)
    zf._didModify = True  # type: ignore[attr-defined]
    fp.write(info.FileHeader(False))
    fp.write(deflated.stream)
    zf.start_dir = fp.tell()
    zf.filelist.append(info)
    zf.NameToInfo[info.filename] = info


@contextmanager
def atomic_file(out: Path) -> Iterator[BinaryIO]:
    """A file written beside `out` and renamed into place only if the block succeeds."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=TEMP_SUFFIX, dir=out.parent)
    tmp = Path(tmp_name)
    try:
        # A large buffer: a package of many small deflated pages is written in few calls.
        with os.fdopen(fd, "wb", buffering=1 << 20) as fh:
            yield fh
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(data: bytes, out: Path) -> int:
    """Write `data` to `out` atomically; return its size in bytes."""
    with atomic_file(out) as fh:
        fh.write(data)
    return len(data)


def write_package(entries: Iterable[Entry], out: Path, timestamp: int) -> int:
    """Write the zip to `out` atomically; return its size in bytes."""
    items = ordered(entries)
    names = [e.name for e in items]
    if len(set(names)) != len(names):
        raise ValueError("duplicate entry names in package")
    for name in names:
        problem = entry_name_problem(name)
        if problem:
            raise ValueError(f"entry {name!r} {problem}")
    with atomic_file(out) as fh, zipfile.ZipFile(fh, "w", allowZip64=True) as zf:
        date = _date(timestamp)
        for entry in items:
            info = _info(entry.name, date)
            if entry.deflated is not None:
                _write_deflated(zf, info, entry.deflated)
            elif entry.data is not None:
                zf.writestr(info, entry.data)
            else:
                assert entry.source is not None
                # Known size up front: zipfile then picks zip64 only when it is needed.
                info.file_size = entry.source.stat().st_size
                with entry.source.open("rb") as src, zf.open(info, "w") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
    return out.stat().st_size


def remove_stale_temp_files(folder: Path, now: float | None = None) -> list[str]:
    """Delete the temporary files killed builds left in `folder`; the names deleted.

    Only regular files named as this builder names them (TEMP_SUFFIX, or an earlier version's
    `.tmp` after an output's name) and untouched for STALE_SECONDS: never anything else, never
    what a build running right now is writing, never through a symlink.
    """
    removed: list[str] = []
    now = time.time() if now is None else now
    try:
        listing = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in listing:
        if not _TEMP_NAME.match(entry.name):
            continue
        with contextlib.suppress(OSError):
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and now - st.st_mtime > STALE_SECONDS:
                os.unlink(entry.path)
                removed.append(entry.name)
    return sorted(removed)
