"""Local preview: build the course into a temporary folder and serve it inside an LMS simulator.

The simulator page (builder/preview_static/) implements the SCORM 1.2 and 2004 APIs in plain JS,
logs every call and shows the CMI values, so a designer sees what an LMS would record without
uploading anything. The server listens on 127.0.0.1 only. A file change in the course rebuilds it
(watchfiles); the page polls /__build and relaunches the content when a new build is ready. A
course with errors keeps the last good build on screen and shows the errors; the server stays up.

Nothing here prints: the command line passes `on_build` to hear about each build.
"""

from __future__ import annotations

import json
import mimetypes
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from lxml import etree

from builder.errors import BuildFailed, Diagnostic
from builder.model import Mode
from builder.package import MANIFEST
from builder.pipeline import SCORM_TARGETS, BuildSettings, build

STATIC = Path(__file__).parent / "preview_static"
#: Files of the simulator page, by URL.
PAGES = {"/": "index.html", "/__sim/sim.js": "sim.js", "/__sim/sim.css": "sim.css"}


@dataclass
class BuildState:
    """The outcome of the latest build, and what the last good one contains."""

    generation: int = 0
    ok: bool = False
    seconds: float = 0.0
    diagnostics: list[Diagnostic] = field(default_factory=list)
    good_generation: int = 0
    course: dict[str, str] = field(default_factory=dict)
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """What /__build answers."""
        return {
            "generation": self.generation,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "goodGeneration": self.good_generation,
            "course": self.course,
            "targets": self.targets,
            "diagnostics": [d.as_dict() | {"text": str(d)} for d in self.diagnostics],
        }


def launchable_scos(manifest: bytes) -> list[dict[str, Any]]:
    """The launchable items of a manifest: id, title, launch href and 1.2 mastery score."""
    root = etree.fromstring(manifest, etree.XMLParser(no_network=True, resolve_entities=False))
    ns = etree.QName(root).namespace
    q = (lambda tag: f"{{{ns}}}{tag}") if ns else (lambda tag: tag)
    hrefs = {r.get("identifier"): r.get("href") for r in root.iter(q("resource"))}
    scos = []
    for item in root.iter(q("item")):
        href = hrefs.get(item.get("identifierref"))
        if not href:
            continue
        mastery = next(
            (
                el.text
                for el in item.iterchildren(etree.Element)
                if etree.QName(el).localname == "masteryscore"
            ),
            None,
        )
        scos.append(
            {
                "id": item.get("identifier"),
                "title": " ".join((item.findtext(q("title")) or "").split()),
                "href": href + (item.get("parameters") or ""),
                "masteryScore": mastery.strip() if mastery else None,
            }
        )
    return scos


class Preview:
    """Builds a course into temporary folders and serves it with the simulator page."""

    def __init__(
        self,
        course_dir: Path,
        *,
        display_root: str | None = None,
        mode: Mode | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        on_build: Callable[[BuildState], None] | None = None,
    ) -> None:
        self.course_dir = course_dir
        self.display_root = display_root
        self.mode = mode
        self.on_build = on_build
        self.state = BuildState()
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()
        self._work = Path(tempfile.mkdtemp(prefix="scorm-builder-preview-"))
        self._folders: list[Path] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.server = ThreadingHTTPServer((host, port), _handler(self))
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        """The address of the simulator page."""
        host, port = self.server.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else host
        return f"http://{name}:{port}/"

    @property
    def folder(self) -> Path | None:
        """The folder of the last good build (one subfolder per SCORM version)."""
        with self._lock:
            return self._folders[-1] if self._folders else None

    def rebuild(self) -> BuildState:
        """Build the course again; on errors keep serving the last good build."""
        with self._build_lock:
            started = time.perf_counter()
            generation = self.state.generation + 1
            out = self._work / f"build-{generation}"
            try:
                targets, course = self._build_into(out)
            except (BuildFailed, OSError) as exc:
                shutil.rmtree(out, ignore_errors=True)
                diags = (
                    exc.diagnostics
                    if isinstance(exc, BuildFailed)
                    else [Diagnostic(str(self.course_dir), 1, 1, "E106", f"cannot build: {exc}")]
                )
                with self._lock:
                    self.state = BuildState(
                        generation=generation,
                        ok=False,
                        seconds=time.perf_counter() - started,
                        diagnostics=diags,
                        good_generation=self.state.good_generation,
                        course=self.state.course,
                        targets=self.state.targets,
                    )
            else:
                with self._lock:
                    self._folders.append(out)
                    # Keep the previous build too: a page may still be loading from it.
                    while len(self._folders) > 2:
                        shutil.rmtree(self._folders.pop(0), ignore_errors=True)
                    self.state = BuildState(
                        generation=generation,
                        ok=True,
                        seconds=time.perf_counter() - started,
                        diagnostics=course[1],
                        good_generation=generation,
                        course=course[0],
                        targets=targets,
                    )
            state = self.state
        if self.on_build is not None:
            self.on_build(state)
        return state

    def _build_into(
        self, out: Path
    ) -> tuple[dict[str, dict[str, Any]], tuple[dict[str, str], list[Diagnostic]]]:
        # The same pipeline as `build`, each package written as a folder instead of a zip.
        settings = BuildSettings(
            course_dir=self.course_dir,
            out_dir=out,
            targets=SCORM_TARGETS,
            mode=self.mode,
            display_root=self.display_root,
            cache=False,
            unpacked=True,
        )
        result = build(settings)
        course, warnings = result.course, result.warnings
        targets: dict[str, dict[str, Any]] = {}
        for written in result.outputs:
            targets[written.target] = {
                "base": f"/content/{written.target}/",
                "version": "1.2" if written.target == "scorm12" else "2004",
                "scos": launchable_scos((written.path / MANIFEST).read_bytes()),
            }
        info = {"id": course.id, "title": course.title, "language": course.language}
        return targets, (info, warnings)

    def resolve(self, target: str, rel: str) -> Path | None:
        """The built file for a URL path, or None (never a path outside the build)."""
        folder = self.folder
        if folder is None or target not in SCORM_TARGETS:
            return None
        base = (folder / target).resolve()
        path = (base / rel).resolve()
        if not path.is_relative_to(base) or not path.is_file():
            return None
        return path

    # ------------------------------------------------------------------ lifecycle

    def start(self, watch: bool = True) -> None:
        """Build once, then serve (and watch the course) in background threads."""
        self.rebuild()
        threads = [threading.Thread(target=self.server.serve_forever, name="preview-http")]
        if watch:
            threads.append(threading.Thread(target=self._watch, name="preview-watch"))
        for thread in threads:
            thread.daemon = True
            thread.start()
        self._threads = threads

    def _watch(self) -> None:
        from watchfiles import watch

        for _changes in watch(self.course_dir, stop_event=self._stop, debounce=200):
            self.rebuild()

    def wait(self) -> None:
        """Block until stop() is called (the command line waits here for Ctrl+C)."""
        while not self._stop.wait(0.5):
            pass

    def stop(self) -> None:
        """Stop serving and watching, and delete the temporary builds."""
        self._stop.set()
        if self._threads:  # shutdown() waits for serve_forever(), so only if it runs
            self.server.shutdown()
        self.server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        shutil.rmtree(self._work, ignore_errors=True)


def _handler(preview: Preview) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "scorm-builder-preview"

        def log_message(self, format: str, *args: Any) -> None:
            # Requests are not logged: only the command line prints, and it reports builds.
            return

        def _send(self, status: int, body: bytes, ctype: str, head: bool = False) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def _file(self, path: Path, head: bool) -> None:
            ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if ctype.startswith("text/") or ctype in ("application/javascript", "text/javascript"):
                ctype += "; charset=utf-8"
            self._send(HTTPStatus.OK, path.read_bytes(), ctype, head)

        def _route(self, head: bool) -> None:
            path = unquote(urlsplit(self.path).path)
            if path in PAGES:
                self._file(STATIC / PAGES[path], head)
            elif path == "/__build":
                with preview._lock:
                    body = json.dumps(preview.state.as_dict()).encode()
                self._send(HTTPStatus.OK, body, "application/json", head)
            elif path == "/favicon.ico":
                self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon", head)
            elif path.startswith("/content/"):
                target, _, rel = path[len("/content/") :].partition("/")
                found = preview.resolve(target, rel or "index.html")
                if found is None:
                    self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain", head)
                else:
                    self._file(found, head)
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain", head)

        def do_GET(self) -> None:
            self._route(head=False)

        def do_HEAD(self) -> None:
            self._route(head=True)

    return Handler
