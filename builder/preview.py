"""Local preview: build the course into a temporary folder and serve it inside an LMS simulator.

The simulator page (builder/preview_static/) implements the SCORM 1.2 and 2004 APIs in plain JS,
logs every call and shows the CMI values, so a designer sees what an LMS would record without
uploading anything. The server listens on 127.0.0.1 only and answers only requests addressed to a
loopback name (localhost, 127.0.0.1, [::1]): a web page whose own host name is made to resolve
to 127.0.0.1 ("DNS rebinding") gets 403, not the course. A file change in the course rebuilds it
(watchfiles); the page polls /__build and relaunches the content when a new build is ready. A
course with errors, or a build that fails for any other reason, keeps the last good build on
screen and shows why; the server and the watcher stay up.

Nothing here prints: the command line passes `on_build` to hear about each build.
"""

from __future__ import annotations

import json
import mimetypes
import shutil
import stat
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
#: Host names a request may be addressed to (with or without the server's port).
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
#: How long the watcher waits before watching again after it failed (e.g. the folder vanished).
WATCH_RETRY_SECONDS = 1.0
#: How often the watcher wakes without a change, to notice that the course folder was replaced.
WATCH_TICK_MS = 200
#: How long start() waits at most for the watcher to be in place.
WATCH_READY_SECONDS = 10.0


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
        self._folders: list[Path] = []
        self._stop = threading.Event()
        self._watching = threading.Event()
        self._threads: list[threading.Thread] = []
        # The socket first: if the port is taken, no temporary folder is left behind.
        self.server = _Server((host, port), _handler(self))
        self._work = Path(tempfile.mkdtemp(prefix="scorm-builder-preview-"))

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
            # Any failure, a builder bug included, is this build's outcome: the watcher, which
            # calls this after every save, must live on, and /__build must say what happened.
            except Exception as exc:
                shutil.rmtree(out, ignore_errors=True)
                diags = self._failure(exc)
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

    def _failure(self, exc: Exception) -> list[Diagnostic]:
        """The diagnostics that explain a failed build."""
        if isinstance(exc, BuildFailed):
            return exc.diagnostics
        where = self.display_root or str(self.course_dir)
        if isinstance(exc, OSError):
            return [Diagnostic(where, 1, 1, "E106", f"cannot build: {exc}")]
        return [
            Diagnostic(
                where,
                1,
                1,
                "E900",
                f"the builder failed unexpectedly ({type(exc).__name__}: {exc}); "
                "the last good build is still shown",
                hint="this is a bug in scorm-builder: please report it with the course file "
                "you last changed",
            )
        ]

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
        try:
            base = (folder / target).resolve()
            path = (base / rel).resolve()
            if not path.is_relative_to(base) or not path.is_file():
                return None
        except (OSError, ValueError):  # a name too long, a NUL byte: nothing of ours
            return None
        return path

    # ------------------------------------------------------------------ lifecycle

    def start(self, watch: bool = True) -> None:
        """Build once, then serve (and watch the course) in background threads.

        With `watch`, it returns once the watcher is in place, so no save after it is missed.
        """
        threads = []
        if watch:
            threads.append(threading.Thread(target=self._watch, name="preview-watch"))
            threads[-1].daemon = True
            threads[-1].start()
        self.rebuild()
        threads.append(threading.Thread(target=self.server.serve_forever, name="preview-http"))
        threads[-1].daemon = True
        threads[-1].start()
        self._threads = threads
        if watch:
            self._watching.wait(WATCH_READY_SECONDS)

    def _watch(self) -> None:
        from watchfiles import watch

        # A watch ends when the course folder itself goes away (deleted, or replaced by a tool
        # that writes a new copy) or cannot be watched: wait for it, build what is there now,
        # and watch again, so that the preview recovers without a restart.
        watched: tuple[int, int] | None = None
        while not self._stop.is_set():
            folder = self._identity()
            if folder is None:
                self._stop.wait(WATCH_RETRY_SECONDS)
                continue
            if watched is not None and folder != watched:
                self.rebuild()  # what changed while nothing was watched
            watched = folder
            try:
                for changes in watch(
                    self.course_dir,
                    stop_event=self._stop,
                    debounce=200,
                    rust_timeout=WATCH_TICK_MS,
                    yield_on_timeout=True,
                ):
                    self._watching.set()  # the first tick: the folder is being watched
                    if changes:
                        self.rebuild()
                    if self._identity() != watched:
                        break
            except (OSError, RuntimeError):
                self._watching.set()  # start() need not wait: the watcher tries again later
            self._stop.wait(WATCH_RETRY_SECONDS)

    def _identity(self) -> tuple[int, int] | None:
        """Which folder is at the course path now (device, inode), or None if there is none."""
        try:
            info = self.course_dir.stat()
        except OSError:
            return None
        return (info.st_dev, info.st_ino) if stat.S_ISDIR(info.st_mode) else None

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


def host_allowed(values: list[str], port: int) -> bool:
    """Whether a request's Host header names this server by a loopback name.

    Browsers always send the host name of the page's address: a page of another site, even one
    whose name now resolves to 127.0.0.1, is refused.
    """
    if len(values) != 1:
        return False
    host = values[0].strip().lower()
    return any(host in (name, f"{name}:{port}") for name in LOOPBACK_NAMES)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Print nothing: a client that went away needs no traceback, and only the CLI prints."""


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
            try:
                body = path.read_bytes()
            except OSError:  # e.g. removed with an old build since it was found
                self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain", head)
                return
            self._send(HTTPStatus.OK, body, ctype, head)

        def _route(self, head: bool) -> None:
            port = preview.server.server_port
            if not host_allowed(self.headers.get_all("Host") or [], port):
                body = f"Open the preview at http://127.0.0.1:{port}/\n".encode()
                self._send(HTTPStatus.FORBIDDEN, body, "text/plain; charset=utf-8", head)
                return
            path = unquote(urlsplit(self.path).path)
            if "\x00" in path:
                self._send(HTTPStatus.BAD_REQUEST, b"bad request", "text/plain", head)
            elif path in PAGES:
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
            try:
                self._route(head=False)
            except ConnectionError:  # the browser went away (e.g. a relaunch): nothing to do
                return

        def do_HEAD(self) -> None:
            try:
                self._route(head=True)
            except ConnectionError:
                return

    return Handler
