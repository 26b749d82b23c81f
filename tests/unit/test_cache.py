"""The build cache (builder/cache.py): never executes what it finds, never writes outside its
own folder, and a damaged cache only costs time, never a different package."""

from __future__ import annotations

import dataclasses
import marshal
import os
import pickle
import shutil
import struct
import zlib
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader
from jinja2.bccache import Bucket

from builder.cache import CACHE_DIR, Cache, code_fingerprint, key
from builder.errors import BuildFailed, Diagnostic
from builder.markdown import RenderedMarkdown
from builder.pipeline import BuildSettings, build
from builder.render import MediaFile, pack_unit, runtime_dir, templates_dir, unpack_unit
from builder.sources import load_sources
from builder.validate import validate_course
from tests.conftest import generated_course, run_cli

CODE = b"fingerprint of the builder"


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated course large enough that a plain build keeps a cache."""
    return generated_course(tmp_path_factory.mktemp("generated"), 20)


@pytest.fixture(scope="module")
def cold(course: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The packages of a build without any cache."""
    out = tmp_path_factory.mktemp("cold")
    return _zips(build(BuildSettings(course_dir=course, out_dir=out, cache=False)).outputs)


def _zips(outputs: list) -> dict[str, bytes]:  # type: ignore[type-arg]
    return {o.path.name: o.path.read_bytes() for o in outputs}


def _build(course: Path, out: Path, **kw: object) -> dict[str, bytes]:
    return _zips(build(BuildSettings(course_dir=course, out_dir=out, **kw)).outputs)  # type: ignore[arg-type]


def _packs(out: Path) -> list[Path]:
    """The cache's files of entries, one per kind."""
    return sorted((out / CACHE_DIR).glob("*.pack"))


class _Store(dict[str, bytes]):
    """A build cache in memory, as sources and validate use it (ParseCache)."""

    def get_raw(self, key: str) -> bytes | None:
        return self.get(key)

    def put_raw(self, key: str, blob: bytes) -> None:
        self[key] = blob


class Payload:
    """Unpickling this runs `os.mkdir(marker)`: what a planted cache file would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.mkdir, (str(self.marker),)


def _code_that_creates(marker: Path) -> bytes:
    """Marshalled code that, run, creates `marker`."""
    return marshal.dumps(compile(f"open({str(marker)!r}, 'w').close()", "<planted>", "exec"))


def test_planted_pickle_and_marshal_files_are_never_run(
    course: Path, cold: dict[str, bytes], tmp_path: Path
) -> None:
    out = tmp_path / "dist"
    assert run_cli("build", str(course), "--out", str(out), "-q").returncode == 0
    marker = tmp_path / "owned"
    evil = pickle.dumps(Payload(marker))
    # As earlier builder versions framed their cache files (magic, length, CRC-32, pickle) ...
    framed = b"scorm-builder cache\n" + struct.pack("<QI", len(evil), zlib.crc32(evil)) + evil
    for name in ("sources-0.pickle", "courses-0.pickle", "units-learner-multi-3.pickle"):
        (out / CACHE_DIR / name).write_bytes(framed)
    (out / CACHE_DIR / "units.marshal").write_bytes(_code_that_creates(marker))
    # ... and in place of every file this builder wrote.
    for i, entry in enumerate(_packs(out)):
        entry.write_bytes(evil if i % 2 else _code_that_creates(marker))
    proc = run_cli("build", str(course), "--out", str(out), "-q")
    assert proc.returncode == 0 and proc.stderr == ""
    assert not marker.exists()
    assert {p.name: p.read_bytes() for p in out.glob("*.zip")} == cold
    # Files of the old formats are removed unread; every pack is written anew.
    assert not list((out / CACHE_DIR).glob("*.pickle"))
    assert not list((out / CACHE_DIR).glob("*.marshal"))
    assert all(pickle.dumps(Payload(marker)) not in p.read_bytes() for p in _packs(out))


def test_compiled_templates_in_the_users_cache_are_never_run(course: Path, tmp_path: Path) -> None:
    """Earlier versions kept Jinja's compiled templates (marshalled code) per user."""
    home = tmp_path / "xdg"
    folder = home / "scorm-builder" / "templates"
    folder.mkdir(parents=True)
    marker = tmp_path / "owned"
    env = Environment(loader=FileSystemLoader(str(templates_dir())))
    planted = FileSystemBytecodeCache(str(folder), "%s.jinja")
    for path in templates_dir().rglob("*.j2"):
        name = path.relative_to(templates_dir()).as_posix()
        source = path.read_text(encoding="utf-8")
        bucket = Bucket(env, planted.get_cache_key(name, os.path.normpath(path)), "")
        bucket.checksum = planted.get_source_checksum(source)
        bucket.code = marshal.loads(_code_that_creates(marker))
        planted.dump_bytecode(bucket)
    # The planted entries are live: a Jinja that reads them runs the code.
    trusting = Environment(loader=FileSystemLoader(str(templates_dir())), bytecode_cache=planted)
    with pytest.raises(KeyError):  # the planted code defines no template, after running
        trusting.get_template("course.html.j2")
    assert marker.exists()
    marker.unlink()
    proc = run_cli(
        "build",
        str(course),
        "--out",
        str(tmp_path / "dist"),
        "-q",
        env={"XDG_CACHE_HOME": str(home)},
    )
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists()


def test_a_symlinked_cache_folder_is_never_followed(
    course: Path, cold: dict[str, bytes], tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # Made to look like the builder's own cache, so only the link itself can give it away.
    (elsewhere / "CACHEDIR.TAG").write_bytes(
        b"Signature: 8a477f597d28d172789f06886806bc55\n# scorm-builder build cache\n"
    )
    before = sorted(p.name for p in elsewhere.iterdir())
    out = tmp_path / "dist"
    out.mkdir()
    (out / CACHE_DIR).symlink_to(elsewhere, target_is_directory=True)
    assert _build(course, out, cache=True) == cold
    assert _build(course, out, cache=True) == cold
    assert sorted(p.name for p in elsewhere.iterdir()) == before
    assert (out / CACHE_DIR).is_symlink()


def test_no_cache_is_kept_through_a_symlinked_output_folder(
    course: Path, cold: dict[str, bytes], tmp_path: Path
) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "dist").symlink_to(real, target_is_directory=True)
    assert _build(course, tmp_path / "dist", cache=True) == cold  # the packages, as asked
    assert not (real / CACHE_DIR).exists()


def test_symlinked_entries_are_neither_read_nor_written_through(
    course: Path, cold: dict[str, bytes], tmp_path: Path
) -> None:
    out = tmp_path / "dist"
    first = _build(course, out, cache=True)
    victims = tmp_path / "victims"
    victims.mkdir()
    for i, entry in enumerate(_packs(out)):
        victim = victims / f"file-{i}"
        victim.write_bytes(entry.read_bytes())  # a good entry: only following the link finds it
        entry.unlink()
        entry.symlink_to(victim)
    snapshot = {p.name: p.read_bytes() for p in victims.iterdir()}
    assert _build(course, out, cache=True) == first == cold
    assert {p.name: p.read_bytes() for p in victims.iterdir()} == snapshot
    assert not any(p.is_symlink() for p in _packs(out))  # replaced by real entries


def test_a_folder_the_builder_did_not_make_is_left_alone(
    course: Path, cold: dict[str, bytes], tmp_path: Path
) -> None:
    out = tmp_path / "dist"
    (out / CACHE_DIR).mkdir(parents=True)
    (out / CACHE_DIR / "notes.txt").write_text("someone else's")
    assert _build(course, out, cache=True) == cold
    assert [p.name for p in (out / CACHE_DIR).iterdir()] == ["notes.txt"]


@pytest.mark.parametrize("damage", ["flip", "flip-early", "truncate", "empty", "swap"])
def test_damaged_entries_are_ignored_and_change_no_byte(
    course: Path, cold: dict[str, bytes], tmp_path: Path, damage: str
) -> None:
    out = tmp_path / "dist"
    assert _build(course, out) == cold
    entries = _packs(out)
    kinds = {"checked", "file-multi", "page-multi", "unit-learner-multi", "yaml"}
    assert {p.name for p in entries} == {f"{kind}.pack" for kind in kinds}
    blobs = [p.read_bytes() for p in entries]
    for i, entry in enumerate(entries):
        data = blobs[i]
        if damage == "flip":  # one byte of the last payload: the framing still looks right
            data = data[:-1] + bytes([data[-1] ^ 0x55])
        elif damage == "flip-early":  # one byte of an early payload
            data = data[:200] + bytes([data[200] ^ 0x55]) + data[201:]
        elif damage == "truncate":
            data = data[: len(data) // 2]
        elif damage == "empty":
            data = b""
        else:  # another kind's good file under this name
            data = blobs[(i + 1) % len(blobs)]
        entry.write_bytes(data)
    assert _build(course, out) == cold
    # ... and the damaged files were written again: the next build finds good entries.
    assert sorted(p.read_bytes() for p in _packs(out)) == sorted(blobs)


def test_entries_are_checked_before_use(tmp_path: Path) -> None:
    cache = Cache.open(tmp_path / "dist", CODE)
    assert cache is not None
    name, other, data = key("unit", "a"), key("unit", "b"), key("data", "c")
    cache.put(name, b"payload one")
    cache.put(other, b"payload two")
    cache.put_json(data, {"a": [1, "b"]})
    assert not (tmp_path / "dist").exists()  # nothing is written before `save`
    cache.save()
    cache.close()
    cache = Cache.open(tmp_path / "dist", CODE)
    assert cache is not None
    assert cache.get(name) == b"payload one"
    assert cache.get_json(data) == {"a": [1, "b"]}
    cache.close()
    pack = tmp_path / "dist" / CACHE_DIR / "unit.pack"
    pack.write_bytes(pack.read_bytes().replace(b"payload two", b"payload 2!!"))
    cache = Cache.open(tmp_path / "dist", CODE)
    assert cache is not None
    assert cache.get(name) == b"payload one"
    assert cache.get(other) is None  # its payload no longer matches its digest
    cache.close()
    again = Cache.open(tmp_path / "dist", b"another builder")
    assert again is not None
    assert again.get(name) is None  # written by a different builder's code
    again.close()
    assert key("unit", "ab", "c") != key("unit", "a", "bc")
    with pytest.raises(ValueError):
        key("../unit", "a")


def test_saving_drops_what_no_build_uses_any_more(tmp_path: Path) -> None:
    cache = Cache.open(tmp_path, CODE)
    assert cache is not None
    old, new, other_kind = key("unit", "old"), key("unit", "new"), key("page", "x")
    for name in (old, new, other_kind):
        cache.put(name, b"x")
    cache.save()
    cache.close()
    cache = Cache.open(tmp_path, CODE)
    assert cache is not None
    assert cache.get(new) == b"x"
    cache.save()
    cache.close()
    cache = Cache.open(tmp_path, CODE)
    assert cache is not None
    assert cache.get(new) == cache.get(other_kind) == b"x"  # a kind not used stays as it was
    assert cache.get(old) is None
    cache.close()


def test_stale_temporary_files_are_removed_and_nothing_else(course: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    _build(course, out)
    old = 1_000_000_000  # 2001: long stale
    stale = [
        ".generated-20-scorm12.zip.k2v9x_0a.scorm-builder.tmp",
        ".generated-20-facilitator.html.abcdefgh.tmp",  # as earlier versions named them
    ]
    kept = [
        ".generated-20-scorm2004.zip.q1w2e3r4.scorm-builder.tmp",  # fresh: maybe being written
        ".notes.tmp",  # not a name the builder makes
        "draft.zip.abcdefgh.tmp",  # not hidden
    ]
    for name in stale + kept:
        (out / name).write_bytes(b"x" * 1000)
    for name in [*stale, *kept[1:]]:
        os.utime(out / name, (old, old))
    outside = tmp_path / "precious.txt"
    outside.write_text("keep")
    link = out / ".link.zip.abcdefgh.tmp"
    link.symlink_to(outside)
    os.utime(link, (old, old), follow_symlinks=False)
    cache_tmp = out / CACHE_DIR / ".page-multi.pack.4242.scorm-builder.tmp"
    cache_tmp.write_bytes(b"half an entry")
    os.utime(cache_tmp, (old, old))
    _build(course, out)
    names = {p.name for p in out.iterdir()}
    assert not names & set(stale)
    assert set(kept) | {link.name} <= names
    assert outside.read_text() == "keep"
    assert not cache_tmp.exists()


def test_a_rendered_unit_survives_the_cache_unchanged() -> None:
    rendered = RenderedMarkdown(
        html="<p>Hello <a href='#x'>x</a></p>\n",
        diagnostics=[Diagnostic("units/a.md", 3, 1, "W320", "a warning", "warning", hint="h")],
        media={"media/a.png", "media/b.png"},
        headings=[(2, "intro", "Intro")],
        has_quiz_marker=True,
        anchors={"intro", "x"},
        links=[("b.md#y", 4)],
        reveals=[("q1", 7)],
        charts=["prices"],
        inline_links={"#x": "#a--x"},
        media_lines={"media/a.png": 5},
    )
    value = (
        rendered,
        [Diagnostic("quizzes/a.yaml", 2, 1, "E322", "bad link")],
        [("#z", 2)],
        {"media/a.png": MediaFile("media/a.png", Path("/course/media/a.png"))},
        {"A *prompt*": "A <em>prompt</em>"},
    )
    assert unpack_unit(pack_unit(value)) == value
    assert unpack_unit(b"not json") is None
    assert unpack_unit(b'{"rendered": {}}') is None
    packed = pack_unit(value)
    assert unpack_unit(packed.partition(b"\n")[0]) is None  # cut before its HTML
    assert unpack_unit(packed + b"\xff") is None  # HTML that is not UTF-8


def test_the_fingerprint_changes_with_any_shipped_script_or_stylesheet(tmp_path: Path) -> None:
    """What packages carry minified (runtime scripts, stylesheets) is part of the builder's
    fingerprint, so that no cached file outlives a change to them."""
    templates = tmp_path / "templates"
    runtime = tmp_path / "runtime"
    shutil.copytree(templates_dir(), templates)
    shutil.copytree(runtime_dir(), runtime)
    before = code_fingerprint(templates, runtime)
    assert code_fingerprint(templates, runtime) == before
    for path in (runtime / "course-ui.js", templates / "static" / "theme.css"):
        original = path.read_bytes()
        path.write_bytes(original + b"\n/* changed */\n")
        assert code_fingerprint(templates, runtime) != before, path.name
        path.write_bytes(original)
    assert code_fingerprint(templates, runtime) == before


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _warned(course: Path, out: Path, **kw: object) -> tuple[list[str], dict[str, bytes]]:
    result = build(BuildSettings(course_dir=course, out_dir=out, **kw))  # type: ignore[arg-type]
    return [f"{w}" for w in result.warnings], _zips(result.outputs)


def _failed(course: Path, out: Path, **kw: object) -> list[str]:
    with pytest.raises(BuildFailed) as failed:
        build(BuildSettings(course_dir=course, out_dir=out, **kw))  # type: ignore[arg-type]
    return [f"{d}" for d in failed.value.diagnostics]


def test_per_file_checks_from_the_cache_change_no_diagnostic_and_no_byte(
    course: Path, tmp_path: Path
) -> None:
    """Files whose bytes did not change are not checked again, but every check across files
    still sees them: the warnings and errors, in order, and the packages are a cache-less
    build's, cold and after edits."""
    work = tmp_path / "course"
    shutil.copytree(course, work)
    quizzes, units = work / "quizzes", work / "units"
    for path in quizzes.glob("quiz-*.yaml"):  # W503 across the quizzes, none in any one
        path.write_text(path.read_text().replace("answer: false", "answer: true"))
    with (quizzes / "quiz-9.yaml").open("a") as fh:  # W503 in quiz-9 alone
        for n in (2, 3):
            fh.write(f"  - {{id: q9-tf{n}, type: true-false, prompt: Fact {n}., answer: true}}\n")
    _edit(quizzes / "quiz-1.yaml", 'text: "', 'text: "None of the above; ')
    _edit(quizzes / "quiz-2.yaml", 'prompt: "', 'prompt: "Which is not ')
    _edit(units / "session-3.md", "aim: ", "aim: TODO ")
    (work / "data").mkdir()
    (work / "data" / "rates.yaml").write_text(
        "id: rates\ntitle: Rates\nmeasure: Rate\nunit: per cent\nsource: Survey\n"
        "rows:\n  - {label: North, value: 3}\n"
    )
    out = tmp_path / "dist"
    warned = _warned(work, tmp_path / "plain", cache=False)
    codes = {line.split("[")[1].split("]")[0] for line in warned[0]}
    assert {"W303", "W305", "W503", "W505", "W506"} <= codes
    assert any("quiz 'quiz-9': all 3 true/false" in line for line in warned[0])
    assert any("[W503]: across" in line for line in warned[0])
    assert _warned(work, out, cache=True) == warned  # cold: every file checked
    assert (out / CACHE_DIR / "checked.pack").is_file()
    assert _warned(work, out, cache=True) == warned  # every file from the cache

    # One quiz breaks the pattern across quizzes; a unit and the data set change.
    _edit(quizzes / "quiz-7.yaml", "answer: true", "answer: false")
    _edit(units / "session-3.md", "aim: TODO ", "aim: ")
    _edit(work / "data" / "rates.yaml", "North", "South")
    warned = _warned(work, tmp_path / "plain", cache=False)
    assert not any("[W503]: across" in line or "[W305]" in line for line in warned[0])
    assert _warned(work, out, cache=True) == warned

    # Errors in edited files, and across an edited file and unchanged ones.
    _edit(quizzes / "quiz-4.yaml", ", correct: true}", "}")  # E310
    _edit(quizzes / "quiz-5.yaml", "id: quiz-5", "id: quiz-6")  # E302 with quiz-6.yaml
    _edit(units / "session-8.md", "duration:", "durtion:")  # E202, E201
    _edit(work / "data" / "rates.yaml", "value: 3", "value: -3")  # E205
    failed = _failed(work, tmp_path / "plain", cache=False)
    codes = {line.split("[")[1].split("]")[0] for line in failed}
    assert {"E201", "E202", "E205", "E302", "E310"} <= codes
    assert _failed(work, out, cache=True) == failed


def test_damaged_per_file_checks_are_checked_again(course: Path) -> None:
    """An entry that is not what validate wrote, or that does not fit the file, is a miss."""
    tree = load_sources(course)
    quiz = tree.quizzes["quizzes/quiz-1.yaml"]
    broken = dict(quiz.data, shufle=True)  # E202
    tree.quizzes["quizzes/quiz-1.yaml"] = dataclasses.replace(quiz, data=broken)
    with pytest.raises(BuildFailed) as failed:
        validate_course(tree)
    expected = [f"{d}" for d in failed.value.diagnostics]
    assert any("[E202]" in line for line in expected)

    store = _Store()
    with pytest.raises(BuildFailed):
        validate_course(tree, (), store)
    assert len(store) == len(tree.units) + len(tree.quizzes)
    for bad in (b"not json", b"[]", b'[[["a"]], []]', b'{"rows": []}', b"[[], []]"):
        for name in store:
            store[name] = bad
        with pytest.raises(BuildFailed) as failed:
            validate_course(tree, (), store)
        assert [f"{d}" for d in failed.value.diagnostics] == expected, bad


def test_parsed_files_from_the_cache_keep_their_positions(course: Path) -> None:
    """A file read back from the cache places a diagnostic where parsing it would; positions
    that are not what the builder wrote cost the line, never a traceback."""
    fresh = load_sources(course).quizzes["quizzes/quiz-1.yaml"]

    store = _Store()
    load_sources(course, None, store)
    cached = load_sources(course, None, store).quizzes["quizzes/quiz-1.yaml"]
    loc = ("questions", 1, "prompt")
    assert cached.where(loc) == fresh.where(loc) != (1, 1)
    for name, blob in store.items():
        head, newline, _positions = blob.partition(b"\n")
        assert newline
        store[name] = head + b'\n[["questions"], "x"]'
    damaged = load_sources(course, None, store).quizzes["quizzes/quiz-1.yaml"]
    assert damaged.data == fresh.data
    assert damaged.where(loc) == (1, 1)
