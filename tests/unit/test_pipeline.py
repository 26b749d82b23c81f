"""The stage chain (builder/pipeline.py) and the outputs table (builder/outputs.py)."""

from __future__ import annotations

import gc
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from builder import pipeline
from builder.outputs import OUTPUTS
from builder.pipeline import BuildSettings, build
from tests.conftest import FIXTURES, REPO, generated_course


def test_every_output_in_the_table_is_built_by_its_name(tmp_path: Path) -> None:
    settings = BuildSettings(FIXTURES / "minimal", tmp_path, targets=tuple(OUTPUTS))
    result = build(settings)
    assert [o.target for o in result.outputs] == list(OUTPUTS)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(o.path.name for o in result.outputs)
    assert all(o.path.stat().st_size == o.size > 0 for o in result.outputs)
    with pytest.raises(ValueError, match="unknown target"):
        build(BuildSettings(FIXTURES / "minimal", tmp_path / "x", targets=("scorm3",)))
    assert not (tmp_path / "x").exists()


def test_an_unpacked_build_holds_the_files_of_the_zip(tmp_path: Path) -> None:
    """What preview serves is what the package holds."""
    zipped = build(BuildSettings(FIXTURES / "minimal", tmp_path / "zip"))
    unpacked = build(BuildSettings(FIXTURES / "minimal", tmp_path / "dir", unpacked=True))
    for packed, folder in zip(zipped.outputs, unpacked.outputs, strict=True):
        assert folder.path == tmp_path / "dir" / packed.target
        with zipfile.ZipFile(packed.path) as zf:
            files = {
                p.relative_to(folder.path).as_posix(): p.read_bytes()
                for p in folder.path.rglob("*")
                if p.is_file()
            }
            assert files == {name: zf.read(name) for name in zf.namelist()}


def test_a_second_process_that_dies_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Half the units of a large course render in a second process; if it dies, the first
    renders them too, and the packages are those of a build in one process."""
    course = generated_course(tmp_path, 50)
    assert sum(len(p.read_text("utf-8")) for p in course.glob("units/*.md")) >= (
        pipeline.PARALLEL_MIN_CHARS
    )
    with monkeypatch.context() as serial:
        serial.setattr(pipeline, "PARALLEL_MIN_CHARS", 10**12)
        expected = build(BuildSettings(course, tmp_path / "serial", cache=False))
    parent = os.getpid()
    children: list[int] = []
    real_render, real_fork = pipeline.render_unit_set, os.fork

    def dies_in_a_child(*args: Any) -> Any:
        if os.getpid() != parent:
            os._exit(3)  # as a process killed by the system would: no result, no clean-up
        return real_render(*args)

    def fork() -> int:
        pid = real_fork()
        if pid:
            children.append(pid)
        return pid

    # Threads other tests left behind (servers shutting down) would make the build stay in
    # one process: as in a plain command-line run, this one has no other thread.
    monkeypatch.setattr(pipeline.threading, "active_count", lambda: 1)
    monkeypatch.setattr(pipeline, "render_unit_set", dies_in_a_child)
    monkeypatch.setattr(os, "fork", fork)
    got = build(BuildSettings(course, tmp_path / "out", cache=True))
    assert children  # the second process was tried
    for pid in children:  # and waited for: none is left behind
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
    read: Callable[[Path], bytes] = Path.read_bytes
    assert [read(o.path) for o in got.outputs] == [read(o.path) for o in expected.outputs]


@pytest.mark.parametrize("cache", [False, True])
def test_each_page_is_made_once_for_both_scorm_versions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: bool
) -> None:
    """Both packages hold the same page bytes, so a build makes each page once (with or without
    a cache), and a rebuild with nothing changed makes none."""
    made: list[str] = []
    render = pipeline.PageContext.render

    def counting(self: Any, spec: Any) -> bytes:
        made.append(spec.path)
        return render(self, spec)

    monkeypatch.setattr(pipeline.PageContext, "render", counting)
    course = REPO / "tests" / "browser" / "fixtures" / "all-types"
    settings = BuildSettings(course, tmp_path, mode="multi", cache=cache)
    build(settings)
    pages_made = ["assessment.html", "index.html", "practice.html", "reading.html"]
    assert sorted(made) == pages_made
    pages = {}
    for target in ("scorm12", "scorm2004"):
        with zipfile.ZipFile(tmp_path / f"all-types-{target}.zip") as zf:
            pages[target] = {n: zf.read(n) for n in zf.namelist() if n.endswith(".html")}
    assert pages["scorm12"] == pages["scorm2004"] and len(pages["scorm12"]) == 4
    made.clear()
    build(settings)
    assert sorted(made) == ([] if cache else pages_made)


def test_a_build_leaves_the_collector_as_it_found_it(tmp_path: Path) -> None:
    """The collector runs less often during a build only: a process that builds (preview's
    server, the tests) keeps its own settings, after a failing build too."""
    before = gc.get_threshold()
    build(BuildSettings(FIXTURES / "minimal", tmp_path / "ok"))
    assert gc.get_threshold() == before
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "course.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    with pytest.raises(pipeline.BuildFailed):
        build(BuildSettings(broken, tmp_path / "out"))
    assert gc.get_threshold() == before
