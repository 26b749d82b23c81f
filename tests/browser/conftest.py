"""Fixtures of the browser tests: headless Chromium against the packages, scorm-again as LMS.

A local HTTP server (a thread, 127.0.0.1 only) serves the test player (player/), the npm
packages (tests/node_modules: scorm-again, axe-core) and the extracted packages under /pkg/.
The player gives the SCO scorm-again's API and records every call; `Lms` drives it from Python.

Needs /usr/bin/chromium and `npm ci --prefix tests` (run here when npm is available). On a
developer machine the tests skip with the reason when either is missing; in CI (CI=true) they
fail instead.
"""

from __future__ import annotations

import functools
import http.server
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.register_assert_rewrite("browser_support")

from browser_support import (  # noqa: E402
    Lms,
    Package,
    Server,
    _Handler,
    chromium,
    missing_requirements,
    record,
    unavailable,
)

from builder.pipeline import BuildSettings, build  # noqa: E402


@pytest.fixture(scope="session")
def requirements() -> None:
    """Skip (developer machine) or fail (CI) when Chromium or node_modules is missing."""
    reason = missing_requirements()
    if reason is not None:
        unavailable(reason)


@pytest.fixture(scope="session")
def server(requirements: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A thread serving the player, the npm packages and the extracted packages."""
    site = tmp_path_factory.mktemp("site")
    handler = type("Handler", (_Handler,), {"site": site})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield Server(f"http://127.0.0.1:{httpd.server_address[1]}", site, httpd)
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def packages(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """package(course_dir, target, mode) -> Package, built once per session."""
    out = tmp_path_factory.mktemp("dist")

    @functools.cache
    def package(course_dir: Path, target: str, mode: str) -> Package:
        name = f"{course_dir.name}-{target}-{mode}-{abs(hash(str(course_dir))) % 10_000}"
        result = build(
            BuildSettings(course_dir=course_dir, out_dir=out / name, targets=(target,), mode=mode)
        )
        dest = server.site / name
        with zipfile.ZipFile(result.outputs[0].path) as zf:
            zf.extractall(dest)
        return Package(name, target, mode, dest, f"{server.base}/pkg/{name}/")

    return package


@pytest.fixture(scope="module")
def browser_context(requirements: None) -> Iterator[Any]:
    """Debian's Chromium, headless, with a fresh user data dir; never a downloaded browser.

    One per test module: Playwright's sync API allows one instance at a time in a thread, and
    other browser test modules start their own.
    """
    with chromium(viewport={"width": 1024, "height": 800}) as context:
        yield context


@pytest.fixture
def page(browser_context: Any, server: Server) -> Iterator[Any]:
    """A fresh page with an empty localStorage."""
    page = browser_context.new_page()
    page.goto(f"{server.base}/player/player.html")
    page.evaluate("localStorage.clear()")
    yield page
    page.close()


@pytest.fixture
def lms(page: Any, server: Server) -> Lms:
    """The test player in a fresh page, with its recorders."""
    rec = record(page, server)
    return Lms(page, server, rec)
