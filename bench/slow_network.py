"""Module 7 on a slow network: time to first screen and to interactive, in each packaging.

    python bench/slow_network.py              # 5 cold loads of each page, median and best
    python bench/slow_network.py --runs 1     # one load each (a quick check)

Builds Module 7 (SCORM 2004) as one SCO and as one SCO per unit, extracts the packages and
serves them from 127.0.0.1 gzip-compressed, as a web server would. Debian's Chromium (headless,
a fresh profile per load, no cache) opens each page with the network throttled through the
DevTools protocol: 400 ms round trip, 400 kbit/s each way. The page is opened on its own (no
LMS: the runtime's standalone mode), which costs the same requests as inside an LMS's frame.

- first screen: the first contentful paint (the page's text is drawn);
- interactive: the course script has run (`<html data-runtime="ready">`): the pager,
  contents and quizzes answer.

Both are measured from the start of navigation. Prints a Markdown table for bench/RESULTS.md;
exits non-zero if a page never becomes interactive. Needs /usr/bin/chromium and Playwright.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import shutil
import statistics
import sys
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

from builder.pipeline import BuildSettings, build  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
RTT_MS = 400
KBIT_S = 400
#: The page loads to measure in each packaging: the launch page, and a unit's own SCO.
PAGES = {"single": ["index.html"], "multi": ["index.html", "session-7-1.html"]}
GOAL_S = 2.5
GOAL_KB = 80
#: Runs in every page before its own scripts: notes when the course UI is ready.
WATCH_READY = """(() => { const t = setInterval(() => {
  const html = document.documentElement;
  if (html && html.dataset.runtime === 'ready') { window.__ready = performance.now();
    clearInterval(t); } }, 2); })();"""


class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, gzip-compressed when the browser accepts it, never cached."""

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        body = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        if "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body, compresslevel=6, mtime=0)
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def build_packages(work: Path) -> dict[str, tuple[Path, int]]:
    """Each packaging's extracted folder and zip size in bytes."""
    out: dict[str, tuple[Path, int]] = {}
    for mode in PAGES:
        result = build(
            BuildSettings(
                course_dir=REPO / "course",
                out_dir=work / f"dist-{mode}",
                targets=("scorm2004",),
                mode=mode,  # type: ignore[arg-type]
            )
        )
        zip_path = result.outputs[0].path
        folder = work / "site" / mode
        with zipfile.ZipFile(zip_path) as zf:
            zf.extractall(folder)
        out[mode] = (folder, zip_path.stat().st_size)
    return out


def load_once(base: str, page_path: str) -> dict[str, float]:
    """One cold, throttled load: seconds to first paint and to interactive, bytes received."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="chromium-bench-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
            )
            try:
                page = context.new_page()
                cdp = context.new_cdp_session(page)
                cdp.send("Network.enable")
                cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
                rate = KBIT_S * 1000 / 8  # bytes per second
                cdp.send(
                    "Network.emulateNetworkConditions",
                    {
                        "offline": False,
                        "latency": RTT_MS,
                        "downloadThroughput": rate,
                        "uploadThroughput": rate,
                    },
                )
                received = [0]
                cdp.on(
                    "Network.loadingFinished",
                    lambda e: received.__setitem__(0, received[0] + e["encodedDataLength"]),
                )
                page.add_init_script(WATCH_READY)
                page.goto(f"{base}/{page_path}", wait_until="load", timeout=60_000)
                page.wait_for_function("window.__ready !== undefined", timeout=60_000)
                paint = page.evaluate(
                    "(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime"
                )
                ready = page.evaluate("window.__ready")
                return {
                    "paint": (paint or ready) / 1000,
                    "ready": ready / 1000,
                    "bytes": float(received[0]),
                }
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def mark(ok: bool) -> str:
    """✓ when a goal is met, ✗ when it is not."""
    return "✓" if ok else "✗"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="cold loads per page (default 5)")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} not found", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="slow-network-"))
    try:
        packages = build_packages(work)
        handler = functools.partial(GzipHandler, directory=str(work / "site"))
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        print(f"Throttled to {RTT_MS} ms round trip and {KBIT_S} kbit/s; gzip; {args.runs} cold")
        print("loads per page; median (best) seconds from the start of navigation.\n")
        print(
            f"| package | zip (≤ {GOAL_KB} kB) | page | received | first screen "
            f"| interactive (≤ {GOAL_S} s) |"
        )
        print("|---|---:|---|---:|---:|---:|")
        worst = 0.0
        for mode, pages in PAGES.items():
            _folder, size = packages[mode]
            for page_path in pages:
                runs = [load_once(f"{base}/{mode}", page_path) for _ in range(args.runs)]
                paint = [r["paint"] for r in runs]
                ready = [r["ready"] for r in runs]
                kb = statistics.median(r["bytes"] for r in runs) / 1000
                worst = max(worst, statistics.median(ready))
                print(
                    f"| {mode} | {size / 1000:.1f} kB {mark(size / 1000 <= GOAL_KB)} "
                    f"| {page_path} | {kb:.1f} kB "
                    f"| {statistics.median(paint):.2f} ({min(paint):.2f}) "
                    f"| {statistics.median(ready):.2f} ({min(ready):.2f}) "
                    f"{mark(statistics.median(ready) <= GOAL_S)} |"
                )
        httpd.shutdown()
        httpd.server_close()
        return 0 if worst < 60 else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
