"""Helpers of the browser tests: the local server, the packages, and the test player (`Lms`).

A local HTTP server (a thread, 127.0.0.1 only) serves the test player (player/), the npm
packages (tests/node_modules: scorm-again, axe-core) and the extracted packages under /pkg/.
The player gives the SCO scorm-again's API and records every call; `Lms` drives it from Python.

Needs /usr/bin/chromium and `npm ci --prefix tests`. On a developer machine the tests skip
with the reason when either is missing; under CI (CI=true) they fail instead.
"""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import tempfile
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

HERE = Path(__file__).parent
TESTS = HERE.parent
REPO = TESTS.parent
NODE_MODULES = TESTS / "node_modules"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MODULE7 = REPO / "course"
FIXTURES = HERE / "fixtures"
VERSIONS = {"scorm12": "1.2", "scorm2004": "2004"}


def missing_browser() -> str | None:
    """Why Chromium cannot be driven here (no browser, or no Playwright), or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install playwright)"
    return None


def missing_requirements() -> str | None:
    """Why the browser tests cannot run here (no browser, or no npm packages), or None."""
    reason = missing_browser()
    if reason is not None:
        return reason
    needed = [NODE_MODULES / "scorm-again" / "dist", NODE_MODULES / "axe-core" / "axe.min.js"]
    if not all(p.exists() for p in needed) and shutil.which("npm"):
        # The test set-up installs the pinned LMS runtime itself when it can.
        subprocess.run(
            ["npm", "ci", "--prefix", str(TESTS), "--no-audit", "--no-fund"],
            capture_output=True,
            timeout=300,
            check=False,
        )
    if not all(p.exists() for p in needed):
        return "tests/node_modules is missing: run `npm ci --prefix tests`"
    return None


def unavailable(reason: str) -> NoReturn:
    """Skip the test on a developer machine; fail it in CI (CI=true), where every test must run."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run in CI: {reason}")
    pytest.skip(reason)


@contextmanager
def chromium(**options: Any) -> Iterator[Any]:
    """Debian's Chromium, headless, with a fresh user data dir; never a downloaded browser.

    Yields Playwright's persistent browser context; `options` go to
    launch_persistent_context (e.g. viewport). The profile is removed afterwards.
    """
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_ARGS,
                **options,
            )
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


# --------------------------------------------------------------------------- HTTP server


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves /player/, /lib/ (node_modules) and /pkg/ (extracted packages); nothing else."""

    site: Path

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0].split("#", 1)[0]
        for prefix, base in (
            ("/player/", HERE / "player"),
            ("/lib/", NODE_MODULES),
            ("/pkg/", self.site),
        ):
            if path.startswith(prefix):
                target = (base / path[len(prefix) :]).resolve()
                if target.is_relative_to(base.resolve()):
                    return str(target)
        return str(self.site / "__not_found__")

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Server:
    """The local server and where packages are extracted for it."""

    base: str
    site: Path
    httpd: http.server.ThreadingHTTPServer


# --------------------------------------------------------------------------- packages


@dataclass(frozen=True)
class Package:
    """One built and extracted package."""

    name: str
    target: str
    mode: str
    path: Path
    url: str

    @property
    def version(self) -> str:
        """'1.2' or '2004'."""
        return VERSIONS[self.target]

    def scos(self) -> list[str]:
        """The SCO pages in the manifest's item order (the launch page first)."""
        from lxml import etree

        root = etree.parse(str(self.path / "imsmanifest.xml")).getroot()
        hrefs = {}
        for res in root.iter("{*}resource"):
            kind = next((v for k, v in res.attrib.items() if k.lower().endswith("}scormtype")), "")
            if kind == "sco":
                hrefs[res.get("identifier")] = res.get("href")
        refs = [item.get("identifierref") for item in root.iter("{*}item")]
        return [hrefs[r] for r in refs if r in hrefs]


# --------------------------------------------------------------------------- browser


@dataclass
class Recorder:
    """Console messages, page errors and requests of one page."""

    console: list[dict[str, str]] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


class Lms:
    """The test player seen from Python: launch SCOs, read the LMS's data, drive the course."""

    def __init__(self, page: Any, server: Server, recorder: Recorder) -> None:
        self.page = page
        self.server = server
        self.rec = recorder
        self.package: Package | None = None
        self.launched: set[str] = set()
        self.top_level = False
        self.href = "index.html"
        #: The graded questions each quiz put before the learner at its last submission.
        self.drawn: dict[str, list[str]] = {}

    # ---- the LMS side

    def launch(
        self,
        package: Package,
        href: str | None = None,
        cmi: dict[str, Any] | None = None,
        sequence: list[str] | None = None,
    ) -> None:
        """Open the player (once) and launch a SCO of the package, optionally with CMI data."""
        if not self.page.url.startswith(f"{self.server.base}/player/"):
            self.page.goto(f"{self.server.base}/player/player.html")
        elif self.page.evaluate(
            "player.current !== null && player.terminated === 0 && "
            "!document.getElementById('sco').src.startsWith('about:')"
        ):
            self.close()  # as an LMS does: the SCO on screen ends before another starts
        self.package = package
        self.launched.add(package.url)
        self.href = href or package.scos()[0]
        opts = {
            "version": package.version,
            "base": package.url,
            "href": self.href,
            "sequence": sequence if sequence is not None else package.scos(),
        }
        if cmi is not None:
            opts["cmi"] = cmi
        self.page.evaluate("opts => player.launch(opts)", opts)
        self.wait_ready(self.href)

    def wait_ready(self, href: str) -> None:
        """Wait until the SCO page `href` has loaded and its runtime has started."""
        assert self.package is not None
        url = self.package.url + href
        self.page.wait_for_function(
            """url => { const f = document.getElementById('sco');
                 try { return f.contentWindow.location.href.split('#')[0] === url &&
                   f.contentDocument.documentElement.dataset.runtime === 'ready'; }
                 catch (e) { return false; } }""",
            arg=url,
            timeout=15_000,
        )
        self.href = href

    def open_standalone(self, package: Package, href: str = "index.html") -> None:
        """Open a package page directly, with no LMS anywhere: standalone mode."""
        self.top_level = True
        self.package = package
        self.launched.add(package.url)
        self.page.goto(package.url + href)
        self.page.wait_for_function("document.documentElement.dataset.runtime === 'ready'")

    def controls(self) -> dict[str, Any]:
        """Every quiz control's state on the page: checked, selected or typed."""
        return self.frame.evaluate(
            """() => Object.fromEntries([...document.querySelectorAll(
                 'form[data-quiz] input, form[data-quiz] select, form[data-quiz] textarea')]
               .map(c => [c.id, c.type === 'radio' || c.type === 'checkbox' ? c.checked
                 : c.value]))"""
        )

    @property
    def frame(self) -> Any:
        """The SCO's frame (the page itself when opened standalone)."""
        if self.top_level:
            return self.page.main_frame
        frame = self.page.frame(name="sco")
        assert frame is not None
        return frame

    def close(self) -> None:
        """Close the SCO as a learner closing the window would; the SCO must terminate."""
        before = self.page.evaluate("player.terminated")
        self.page.evaluate("player.close()")
        self.page.wait_for_function(f"player.terminated > {before}")
        assert self.page.evaluate("player.terminated") == 1, "the SCO did not terminate once"

    def relaunch_data(self) -> dict[str, Any]:
        """What an LMS hands the SCO on its next launch."""
        return self.page.evaluate("player.relaunchData()")

    def cmi(self) -> dict[str, Any]:
        """The SCO's CMI data as the LMS holds it."""
        return self.page.evaluate("player.cmi()")

    def stored(self, href: str) -> dict[str, Any] | None:
        """Relaunch data the player kept for a SCO that terminated."""
        return self.page.evaluate("h => player.store[h] || null", href)

    def calls(self) -> list[dict[str, Any]]:
        """Every API call the SCO made, in order."""
        return self.page.evaluate("player.calls")

    def api_errors(self) -> list[dict[str, Any]]:
        """Calls that left an error code, including the values the LMS refused as Moodle does."""
        if self.top_level:
            return []  # standalone: no LMS, no API calls
        return self.page.evaluate("player.errors")

    def set_values(self, element: str) -> list[str]:
        """Every value the SCO set for one element, in order."""
        return [
            c["args"][1]
            for c in self.calls()
            if c["fn"] in ("SetValue", "LMSSetValue")
            and c["args"][0] == element
            and not c.get("injected")
        ]

    def fail(self, set_value: bool = False, commit: bool = False) -> None:
        """Make the LMS return "false" from SetValue and/or Commit (or stop doing so)."""
        self.page.evaluate(
            "f => { player.fail.set = f[0]; player.fail.commit = f[1]; }", [set_value, commit]
        )

    def refuse(self, pattern: str | None) -> None:
        """Make the LMS refuse (SetValue "false", error 405/406) every element matching a regex."""
        self.page.evaluate("p => { player.refuse = p; }", pattern)

    def refused(self) -> list[dict[str, Any]]:
        """The values the LMS refused, with Moodle's reason (or the test's)."""
        return self.page.evaluate("player.refused")

    def reset(self) -> None:
        """Forget the calls, errors and stored data of earlier launches."""
        self.page.evaluate(
            "player.calls = []; player.errors = []; player.refused = []; player.history = {};"
            "player.store = {}"
        )

    def history(self) -> dict[str, dict[str, Any]]:
        """Each terminated SCO's final CMI data, by page."""
        return self.page.evaluate("player.history")

    # ---- the learner side

    def course_data(self) -> dict[str, Any]:
        """The course data of the SCO on screen."""
        return self.frame.evaluate("JSON.parse(document.getElementById('course-data').textContent)")

    def strings(self) -> dict[str, str]:
        """The interface strings of the SCO on screen (from its package's assets/package.js)."""
        return self.frame.evaluate("window.scormBuilderPackage.strings")

    def visible_section(self) -> str:
        """The id of the section on screen."""
        return self.frame.evaluate(
            "[...document.querySelectorAll('[data-unit]')].filter(s => !s.hidden)"
            ".map(s => s.id).join(',')"
        )

    def answer(self, question: dict[str, Any], correct: bool = True) -> None:
        """Answer one question through the page, right or wrong, from the course data."""
        f, qid, kind = self.frame, question["id"], question["type"]
        if kind == "single-choice":
            wrong = [o for o in question["options"] if o not in question["correct"]]
            f.locator(f"#q--{qid}--{question['correct'][0] if correct else wrong[0]}").check()
        elif kind == "multiple-response":
            for option in question["options"]:
                box = f.locator(f"#q--{qid}--{option}")
                right = option in question["correct"]
                if right == correct or (not correct and right and option != question["correct"][0]):
                    box.check()
                else:
                    box.uncheck()
        elif kind == "true-false":
            value = question["correct"] if correct else not question["correct"]
            f.locator(f"#q--{qid}--{'true' if value else 'false'}").check()
        elif kind == "matching":
            targets = question["targets"]
            for prompt in question["prompts"]:
                right = question["correct"][prompt]
                choice = right if correct else targets[(targets.index(right) + 1) % len(targets)]
                f.locator(f"#q--{qid}--{prompt}").select_option(choice)
        elif kind == "fill-in":
            f.locator(f"#q--{qid}--input").fill(question["correct"][0] if correct else "no idea")
        elif kind == "reflection":
            f.locator(f"#q--{qid}--input").fill(f"My thoughts on {qid}, in a few words.")
        elif kind == "likert":
            f.locator(f"#q--{qid}--{question['options'][-1]}").check()
        elif kind == "sequencing":
            self.arrange(question, question["correct"])
            if not correct:  # the first two steps swapped
                f.locator(
                    f'#q--{qid} [data-step="{question["correct"][0]}"] [data-move="down"]'
                ).click()

    def steps(self, qid: str) -> list[str]:
        """A sequencing question's steps in the order on screen."""
        return self.frame.locator(f"#q--{qid} [data-step]").evaluate_all(
            "items => items.map(li => li.getAttribute('data-step'))"
        )

    def arrange(self, question: dict[str, Any], order: list[str]) -> None:
        """Put a sequencing question's steps in `order` with its Move up buttons."""
        qid = question["id"]
        for k, step in enumerate(order):
            while self.steps(qid).index(step) > k:
                self.frame.locator(f'#q--{qid} [data-step="{step}"] [data-move="up"]').click()

    def layout(self, quiz_id: str) -> dict[str, Any] | None:
        """The tracker's layout of a quiz's attempt: {drawn, orders}, or None."""
        return self.frame.evaluate("id => window.scormBuilder.tracker.layout(id)", quiz_id)

    def on_screen(self, quiz: dict[str, Any]) -> list[dict[str, Any]]:
        """The questions of a quiz this attempt puts before the learner (all, or those drawn)."""
        layout = self.layout(quiz["id"])
        drawn = layout and layout["drawn"]
        return [q for q in quiz["questions"] if not drawn or q["id"] in drawn]

    def answer_quiz(
        self,
        quiz: dict[str, Any],
        correct: bool = True,
        wrong: Collection[str] = (),
        wrong_first: int = 0,
    ) -> None:
        """Answer the questions of a quiz on screen and submit it: those in `wrong`, and the
        first `wrong_first` graded ones on screen, wrongly; a draw's hidden ones not at all."""
        asked = self.on_screen(quiz)
        graded = [q["id"] for q in asked if q["points"] > 0]
        wrong = {*wrong, *graded[:wrong_first]}
        for question in asked:
            self.answer(question, correct and question["id"] not in wrong)
        self.drawn[quiz["id"]] = graded
        self.frame.locator(f'form[data-quiz="{quiz["id"]}"] [data-submit]').click()
        self.frame.locator(f'form[data-quiz="{quiz["id"]}"] [data-result]').wait_for()

    def walk(
        self,
        package: Package,
        correct: bool = True,
        wrong: Collection[str] = (),
        cmi: dict[str, Any] | None = None,
        wrong_first: int = 0,
    ) -> dict[str, dict[str, Any]]:
        """Open every unit in order, answer every quiz, close; each SCO's final CMI by page.

        `correct=False` answers everything wrongly; `wrong` names the questions to get wrong;
        `cmi` is the data the first SCO is launched with (e.g. a launch mode); `wrong_first`
        gets the first graded questions on screen of each quiz wrong (whichever were drawn).
        """
        scos = package.scos()
        self.launch(package, scos[0], cmi=cmi)
        if package.mode == "single":
            units = self.course_data()["units"]
            self.frame.locator("[data-start]").click()
            for i, unit in enumerate(units):
                self.frame.locator(f"section#{unit['id']}").wait_for()  # hash routing is async
                assert self.visible_section() == unit["id"]
                if unit["quiz"]:
                    self.answer_quiz(unit["quiz"], correct, wrong, wrong_first)
                if i < len(units) - 1:
                    self.frame.locator("[data-next]").click()
            self.close()
            return self.history()
        for i, href in enumerate(scos):
            if i and package.version == "1.2":
                self.launch(package, href)  # SCORM 1.2: the LMS's menu opens each SCO
            elif i:
                self.wait_ready(href)  # SCORM 2004: the SCO asked the LMS to continue
            for unit in self.course_data()["units"]:
                if unit["quiz"]:
                    self.answer_quiz(unit["quiz"], correct, wrong, wrong_first)
            if i < len(scos) - 1 and package.version == "2004":
                self.frame.locator("[data-start]" if i == 0 else "[data-next]").click()
            else:
                self.close()
        return self.history()

    def go_to(self, unit_id: str) -> None:
        """Open a unit from the table of contents (single mode), opening the drawer if need be."""
        link = self.frame.locator(f'nav a[data-nav="{unit_id}"]')
        if not link.is_visible():
            self.frame.locator("[data-toc-toggle]").click()
        link.click()
        self.frame.locator(f"section#{unit_id}").wait_for()

    def result(self, quiz_id: str) -> str:
        """The text of a quiz's result panel."""
        return self.frame.locator(f'form[data-quiz="{quiz_id}"] [data-result]').inner_text()

    def notice(self) -> str:
        """The notice shown to the learner, or '' when none is."""
        box = self.frame.locator("[data-notice]")
        return box.inner_text() if box.is_visible() else ""

    # ---- checks every test makes

    def assert_clean(self) -> None:
        """No API error code, no refused value, no console error, no request off the package."""
        assert self.api_errors() == []
        problems = [m for m in self.rec.console if m["type"] in ("error", "warning")]
        assert problems == []
        assert self.rec.page_errors == []
        assert self.rec.blocked == []
        allowed = (f"{self.server.base}/player/", f"{self.server.base}/lib/", *self.launched)
        outside = [u for u in self.rec.requests if not u.startswith(allowed)]
        assert outside == [], "every request stays inside the package"


#: The rules every page is checked against.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def axe_violations(lms: Lms) -> list[str]:
    """axe-core's violations on the page on screen, one line each."""
    if not lms.frame.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated by the test harness, not loaded by the page: the package's CSP stays intact.
        lms.frame.evaluate((NODE_MODULES / "axe-core" / "axe.min.js").read_text(encoding="utf-8"))
    found = lms.frame.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
        ".then(r => r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target).join(' | ')))",
        AXE_TAGS,
    )
    return list(found)


def record(page: Any, server: Server) -> Recorder:
    """Attach recorders to a page; any request that leaves 127.0.0.1 is blocked and noted."""
    rec = Recorder()

    def on_console(msg: Any) -> None:
        url = (msg.location or {}).get("url", "")
        if "/player/" in url or "/lib/" in url:
            return  # the player's own messages are not the course's
        rec.console.append({"type": msg.type, "text": msg.text, "url": url})

    def on_route(route: Any) -> None:
        url = route.request.url
        if url.startswith(server.base) or url.startswith(("about:", "data:")):
            route.continue_()
        else:
            rec.blocked.append(url)
            route.abort()

    page.on("console", on_console)
    page.on("pageerror", lambda err: rec.page_errors.append(str(err)))
    page.on("request", lambda req: rec.requests.append(req.url))
    page.route("**/*", on_route)
    return rec
