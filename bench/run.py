"""Benchmark the builder: wall time and peak RSS against the import floor and another SCORM tool.

    python bench/run.py            # full sizes: Module 7, 100 and 1,000 sessions, 200 MB of media
    python bench/run.py --quick    # small sizes, for CI (well under a minute); never fails on speed
    python bench/run.py --no-pyc   # as a checkout with PYTHONDONTWRITEBYTECODE set runs

Every number comes from several runs of a fresh `python -m builder` process, as an author runs it
(imports included): the median and the best (least) wall time, the median CPU time (user +
system, every process of the build) and the peak RSS of the largest process (os.wait4). Targets
are judged on the best run, the one least disturbed by whatever else the machine was doing.

Every process, the floor's included, runs with Python's bytecode cache on (in a folder of the
run's own, warmed up first), as an installed package runs: otherwise a checkout under
PYTHONDONTWRITEBYTECODE compiles the builder's source at every start while the libraries of the
floor load compiled. It prints a Markdown table (paste it into bench/RESULTS.md) and exits
non-zero only if a build fails or produces something wrong, so CI catches a benchmark that rots,
never a slow machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
from generate import generate  # noqa: E402

PY = sys.executable
#: The floor of the core libraries. pydantic's package is lazy: this imports pydantic_core but
#: none of BaseModel's machinery, which every build needs.
FLOOR_IMPORTS = "import pydantic, jinja2, markdown_it, lxml.etree, yaml"
#: The same libraries, importing the names the builder uses from them.
FLOOR_USED = (
    "from pydantic import BaseModel, Field; from jinja2 import Environment; "
    "from markdown_it import MarkdownIt; from lxml import etree; import yaml"
)
COMPARE = BENCH / "compare"


@dataclass
class Run:
    """One measured process (or the summary of several)."""

    seconds: float
    rss_mb: float
    code: int
    cpu: float
    stdout: str
    stderr: str
    best: float = 0.0
    """The least wall time of the runs summarised."""


#: The environment of every measured process (see the module docstring); set by main().
ENV: dict[str, str] | None = None


def measure(cmd: list[str], cwd: Path = REPO) -> Run:
    """Run `cmd`; its wall time and the peak RSS of its largest process."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=ENV)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            seconds,
            usage.ru_maxrss / 1024,
            proc.returncode,
            usage.ru_utime + usage.ru_stime,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            seconds,
        )


def repeat(cmd: list[str], times: int, cwd: Path = REPO, before: object = None) -> Run:
    """The median and best wall time (and the largest RSS) of `times` runs, all successful."""
    runs = []
    for _ in range(times):
        if callable(before):
            before()
        run = measure(cmd, cwd)
        if run.code != 0:
            sys.exit(f"failed ({run.code}): {' '.join(cmd)}\n{run.stderr}")
        runs.append(run)
    mid = statistics.median(r.seconds for r in runs)
    cpu = statistics.median(r.cpu for r in runs)
    best = min(r.seconds for r in runs)
    return Run(mid, max(r.rss_mb for r in runs), 0, cpu, runs[-1].stdout, runs[-1].stderr, best)


def build_cmd(course: Path, out: Path, *extra: str) -> list[str]:
    return [PY, "-m", "builder", "build", str(course), "--out", str(out), "-q", *extra]


def check_packages(out: Path, count: int = 2) -> None:
    """The benchmark would be worthless if the zips were broken."""
    zips = sorted(out.glob("*.zip"))
    if len(zips) != count:
        sys.exit(f"expected {count} packages in {out}, found {[z.name for z in zips]}")
    for path in zips:
        with zipfile.ZipFile(path) as zf:
            if zf.namelist()[0] != "imsmanifest.xml" or zf.testzip() is not None:
                sys.exit(f"broken package: {path}")


class Table:
    """The results, as Markdown."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, ...]] = []

    def add(self, what: str, run: Run | None, target: str = "", note: str = "") -> None:
        secs = f"{run.seconds:.2f} s" if run else "–"
        best = f"{run.best:.2f} s" if run else "–"
        cpu = f"{run.cpu:.2f} s" if run else "–"
        rss = f"{run.rss_mb:.0f} MB" if run else "–"
        self.rows.append((what, secs, best, cpu, rss, target, note))
        print(
            f"  {what}: {secs} (best {best}), CPU {cpu}, {rss} {target} {note}",
            file=sys.stderr,
            flush=True,
        )

    def markdown(self) -> str:
        head = ("measurement", "wall (median)", "wall (best)", "CPU", "peak RSS", "target", "notes")
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)


def verdict(ok: bool, text: str) -> str:
    return f"{'met' if ok else 'MISSED'}: {text}"


def edit_one_session(course: Path, sessions: int) -> None:
    """Change the text of one session, as an author would between two builds."""
    unit = course / "units" / f"session-{max(1, sessions // 2)}.md"
    with unit.open("a", encoding="utf-8") as fh:
        fh.write(f"\nAn edited paragraph written at {time.perf_counter_ns()}.\n")


def other_tool(package: Path, work: Path) -> Run | None:
    """simple-scorm-packager (npm) on the HTML our package holds: its time to package it."""
    if shutil.which("node") is None:
        return None
    if not (COMPARE / "node_modules" / "simple-scorm-packager").is_dir():
        proc = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=COMPARE,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if proc.returncode != 0:
            print(f"  (other tool skipped: npm ci failed: {proc.stderr[:200]})", file=sys.stderr)
            return None
    runs = []
    for i in range(3):
        source = work / f"pre-{i}"
        with zipfile.ZipFile(package) as zf:
            zf.extractall(source)
        for name in ("imsmanifest.xml", "metadata.xml"):
            (source / name).unlink(missing_ok=True)
        run = measure(["node", str(COMPARE / "pack.js"), str(source), str(work / f"o-{i}"), "1.2"])
        if run.code != 0 or not list((work / f"o-{i}").glob("*.zip")):
            sys.exit(f"simple-scorm-packager failed:\n{run.stdout}\n{run.stderr}")
        runs.append(run)
    mid = statistics.median(r.seconds for r in runs)
    cpu = statistics.median(r.cpu for r in runs)
    best = min(r.seconds for r in runs)
    return Run(mid, max(r.rss_mb for r in runs), 0, cpu, runs[-1].stdout, "", best)


def media_throughput(course: Path, work: Path, times: int) -> tuple[Run, Run, float, float]:
    """The builder (one target) against `zip -0` on the same media files."""
    media_bytes = sum(p.stat().st_size for p in (course / "media").iterdir())
    ours = repeat(
        build_cmd(course, work / "m", "--target", "scorm12"),
        times,
        before=lambda: shutil.rmtree(work / "m", ignore_errors=True),
    )
    check_packages(work / "m", 1)
    # The packaging step alone, in-process, on the same entries the build writes.
    stage = measure(
        [
            PY,
            "-c",
            "import sys,time; from pathlib import Path;"
            "from builder import outputs, pipeline, package, render;"
            "c=Path(sys.argv[1]); course,_=pipeline.load_course(c);"
            "r=render.render_units(course,c,'learner',course.packaging);"
            "e=outputs.package_entries(r,'scorm12',course.packaging);"
            "t=time.perf_counter(); package.write_package(e,Path(sys.argv[2]),0);"
            "print(time.perf_counter()-t)",
            str(course),
            str(work / "stage.zip"),
        ]
    )
    stage_seconds = float(stage.stdout.strip())
    zip0 = repeat(
        ["zip", "-0", "-q", "-r", str(work / "zip0.zip"), "media"],
        times,
        cwd=course,
        before=lambda: (work / "zip0.zip").unlink(missing_ok=True),
    )
    return ours, zip0, media_bytes / stage_seconds, media_bytes / zip0.seconds


def main() -> None:
    """Run every measurement and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, for CI")
    ap.add_argument("--times", type=int, help="runs per measurement (default 5, quick 1)")
    ap.add_argument(
        "--no-pyc",
        action="store_true",
        help="leave the bytecode cache as the environment has it (PYTHONDONTWRITEBYTECODE)",
    )
    args = ap.parse_args()
    quick = args.quick
    times = args.times or (1 if quick else 5)
    sizes = (20, 100) if quick else (100, 1000)
    media_mb = 20 if quick else 200
    table = Table()
    started = time.perf_counter()
    global ENV
    with tempfile.TemporaryDirectory(prefix="scorm-bench-") as tmp:
        work = Path(tmp)
        ENV = dict(os.environ)
        # The builder keeps nothing per user; should it ever, it finds a folder of the run's own.
        ENV["XDG_CACHE_HOME"] = str(work / "user-cache")
        if not args.no_pyc:
            ENV.pop("PYTHONDONTWRITEBYTECODE", None)
            ENV["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        # Warm-up: compile what the measured processes import (and their templates), once.
        for warm in (
            [PY, "-c", FLOOR_USED],
            build_cmd(REPO / "course", work / "warm-up", "--target", "all"),
            [PY, "-m", "builder", "validate", str(REPO / "course")],
        ):
            if measure(warm).code != 0:
                sys.exit(f"warm-up failed: {' '.join(warm)}")
        shutil.rmtree(work / "warm-up")
        table.add("Python alone (`python -c pass`)", repeat([PY, "-c", "pass"], max(times, 3)))
        floor = repeat([PY, "-c", FLOOR_IMPORTS], max(times, 3))
        table.add("floor of the core libraries: import pydantic, jinja2, markdown_it, …", floor)
        used = repeat([PY, "-c", FLOOR_USED], max(times, 3))
        table.add(
            "floor importing what the builder uses (pydantic.BaseModel, jinja2.Environment, …)",
            used,
        )
        table.add("`scorm-builder --help`", repeat([PY, "-m", "builder", "--help"], times))
        models = repeat(
            [PY, "-c", "import click, jinja2, markdown_it, lxml.etree, yaml, builder.model"], times
        )
        table.add(
            "import the floor's libraries, click and the course models (builder.model), no course",
            models,
            "",
            f"{models.best / floor.best:.2f} × floor: the fixed cost of validating with Pydantic",
        )
        minimal = REPO / "tests" / "fixtures" / "courses" / "minimal"
        table.add(
            "build a minimal course (3 short units; tests/fixtures/courses/minimal)",
            repeat(
                build_cmd(minimal, work / "min"),
                times,
                before=lambda: shutil.rmtree(work / "min", ignore_errors=True),
            ),
        )
        table.add(
            "validate Module 7",
            repeat([PY, "-m", "builder", "validate", str(REPO / "course")], times),
        )
        m7 = repeat(
            build_cmd(REPO / "course", work / "m7"),
            times,
            before=lambda: shutil.rmtree(work / "m7", ignore_errors=True),
        )
        check_packages(work / "m7")
        table.add(
            "build Module 7 (both SCORM targets)",
            m7,
            verdict(m7.best < 0.4, "< 0.4 s"),
            f"{m7.best / floor.best:.2f} × floor, {m7.best / used.best:.2f} × used (best runs)",
        )
        for n in sizes:
            course = generate(work / f"gen{n}", n)
            chars = sum(p.stat().st_size for p in (course / "units").glob("*.md"))
            cold = repeat(
                build_cmd(course, work / "cold", "--target", "scorm12", "--target", "scorm2004"),
                times,
                before=lambda: shutil.rmtree(work / "cold", ignore_errors=True),
            )
            check_packages(work / "cold")
            target = verdict(cold.best <= 3, "≤ 3 s") if n == 1000 else ""
            table.add(
                f"build {n} sessions ({chars / 1e6:.1f} MB Markdown, {3 * n} questions)",
                cold,
                target,
                "cold: no cache",
            )
            warm = work / "warm"
            shutil.rmtree(warm, ignore_errors=True)
            if measure(build_cmd(course, warm)).code != 0:
                sys.exit("warm-up build failed")
            unchanged = repeat(build_cmd(course, warm), times)
            table.add(
                f"rebuild {n} sessions with nothing changed",
                unchanged,
                "",
                f"{100 * unchanged.best / cold.best:.0f} % of the cold build: the floor of any "
                "rebuild (every file read, checked and packaged from the cache)",
            )
            rebuild = repeat(
                build_cmd(course, warm),
                times,
                before=lambda course=course, n=n: edit_one_session(course, n),
            )
            check_packages(warm)
            table.add(
                f"rebuild {n} sessions after editing one",
                rebuild,
                verdict(
                    rebuild.best <= 0.2 * cold.best,
                    f"≤ 20 % of cold = {0.2 * cold.best:.2f} s",
                ),
                f"{100 * rebuild.best / cold.best:.0f} % of the cold build (best runs; "
                f"medians: {100 * rebuild.seconds / cold.seconds:.0f} %)",
            )
            table.add(
                f"validate {n} sessions",
                repeat([PY, "-m", "builder", "validate", str(course)], times),
            )
            one = work / "one"
            shutil.rmtree(one, ignore_errors=True)
            ours = repeat(
                build_cmd(course, one, "--target", "scorm12"),
                times,
                before=lambda one=one: shutil.rmtree(one, ignore_errors=True),
            )
            theirs = other_tool(next(one.glob("*.zip")), work / f"other{n}")
            if theirs is None:
                table.add(f"simple-scorm-packager, {n} sessions", None, "", "skipped: no node/npm")
            else:
                table.add(
                    f"simple-scorm-packager, {n} sessions (SCORM 1.2, our HTML)",
                    theirs,
                    "",
                    f"scorm-builder one target from sources: {ours.seconds:.2f} s = "
                    f"{ours.seconds / theirs.seconds:.2f} × theirs",
                )
        media = generate(work / "media", 20, media_mb=media_mb)
        ours, zip0, our_rate, zip_rate = media_throughput(media, work, times)
        table.add(
            f"build {media_mb} MB of media (one target)",
            ours,
            verdict(ours.rss_mb <= 100, "peak RSS ≤ 100 MB"),
        )
        table.add(
            f"`zip -0` of the same {media_mb} MB",
            zip0,
            verdict(our_rate >= 0.8 * zip_rate, "≥ 80 % of zip -0 throughput"),
            f"packaging step {our_rate / 1e6:.0f} MB/s against zip -0 {zip_rate / 1e6:.0f} MB/s "
            f"= {100 * our_rate / zip_rate:.0f} %",
        )
    print(f"\n{table.markdown()}\n")
    print(
        f"{'quick' if quick else 'full'} run on {os.cpu_count()} cores, Python "
        f"{sys.version.split()[0]}, {time.perf_counter() - started:.0f} s in all",
    )


if __name__ == "__main__":
    main()
