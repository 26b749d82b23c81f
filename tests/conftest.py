"""Shared test fixtures and helpers: paths, the CLI as a subprocess, a copy of the minimal
course, a private template cache, the official SCORM schema validator, golden-file updates.

Two inputs live outside the repository: the official SCORM XML schemas (with their
`validate.py`) and the source text of Module 7. Tests find them through `SCORM_SCHEMAS_DIR` and
`MODULE7_SOURCE`, or in a `shared/` folder next to the repository; without them, the tests
that need them skip and say why. This module is the only place that knows where they are.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType

import pytest

from builder.errors import BuildFailed
from builder.pipeline import validate

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "courses"
GOLDEN = REPO / "tests" / "golden"


def generated_course(root: Path, sessions: int) -> Path:
    """A course from bench/generate.py under `root`: large enough for the cache and the
    second process, with as many sessions as asked."""
    spec = importlib.util.spec_from_file_location("bench_generate", REPO / "bench" / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return Path(module.generate(root / "course", sessions))


def _outside_input(variable: str, beside: str) -> tuple[Path | None, str]:
    """Where an input from outside the repository is, or None and why it is not there."""
    value = os.environ.get(variable)
    if value:
        path = Path(value)
        if path.exists():
            return path, ""
        return None, f"{variable}={value} does not exist"
    path = REPO.parent / "shared" / beside
    if path.exists():
        return path, ""
    return None, f"set {variable} (or put shared/{beside} next to the repository)"


SCHEMAS, SCHEMAS_MISSING = _outside_input("SCORM_SCHEMAS_DIR", "schemas")
MODULE7_SOURCE, MODULE7_SOURCE_MISSING = _outside_input("MODULE7_SOURCE", "seeds/module7-source.md")


def schemas_dir() -> Path:
    """The folder of the official SCORM schemas; skip the calling test when it is not there."""
    if SCHEMAS is None or not (SCHEMAS / "validate.py").is_file():
        reason = SCHEMAS_MISSING or f"{SCHEMAS} has no validate.py"
        pytest.skip(f"needs the official SCORM schemas: {reason}")
    return SCHEMAS


def module7_source() -> Path:
    """The source text of Module 7; skip the calling test when it is not there."""
    if MODULE7_SOURCE is None or not MODULE7_SOURCE.is_file():
        reason = MODULE7_SOURCE_MISSING or f"{MODULE7_SOURCE} is not a file"
        pytest.skip(f"needs the source text of Module 7: {reason}")
    return MODULE7_SOURCE


def cli_command(*args: str) -> list[str]:
    """The command line of `python -m builder *args`, with this interpreter."""
    return [sys.executable, "-m", "builder", *args]


def run_cli(
    *args: str, cwd: Path = REPO, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the builder's CLI as a user would: a real process, its output and exit code.

    `env` holds variables set on top of the current environment (read at call time, so the
    session's private cache folder below reaches every process). The process imports this
    checkout's builder whatever its working folder, not another installed copy.
    """
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    return subprocess.run(
        cli_command(*args),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": path, **(env or {})},
    )


def edit_text(path: Path, old: str, new: str) -> None:
    """Replace the first `old` in a file by `new`; fail if the file does not contain `old`."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def validation_problems(course: Path) -> list[str]:
    """First lines of the diagnostics of a course that must fail validation (as `course/…`)."""
    with pytest.raises(BuildFailed) as info:
        validate(course, "course")
    return [str(d).split("\n")[0] for d in info.value.diagnostics]


@pytest.fixture
def minimal_course(tmp_path: Path) -> Path:
    """A fresh copy of the minimal fixture course (tmp_path/course), free to edit."""
    target = tmp_path / "course"
    shutil.copytree(FIXTURES / "minimal", target)
    return target


@pytest.fixture(scope="session", autouse=True)
def private_cache_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point XDG_CACHE_HOME at a fresh folder for the whole session, then restore it.

    Builds keep nothing per user (earlier versions kept compiled templates in
    $XDG_CACHE_HOME/scorm-builder/); should one ever write there, tests must neither fill
    the user's real cache nor depend on what an earlier run left there. It is set in os.environ
    so that builder processes the tests start inherit it.
    """
    old = os.environ.get("XDG_CACHE_HOME")
    folder = tmp_path_factory.mktemp("xdg-cache")
    os.environ["XDG_CACHE_HOME"] = str(folder)
    try:
        yield folder
    finally:
        if old is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = old


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/ from the current builder output",
    )


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def scorm_validator() -> ModuleType:
    """The schemas' validate.py, loaded once (it compiles each schema once); skips without it."""
    path = schemas_dir() / "validate.py"
    spec = importlib.util.spec_from_file_location("scorm_validate", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def schemas() -> Path:
    """The folder of the official SCORM schemas, for `inspect --schemas`; skips without it."""
    return schemas_dir()


@pytest.fixture(scope="session")
def assert_schema_valid(scorm_validator: ModuleType):
    """Assert that manifest bytes pass validate.py --strict (errors and warnings both fail)."""

    def check(xml: bytes, name: str = "imsmanifest.xml") -> None:
        result = scorm_validator.validate_bytes(xml, name)
        assert result.ok(strict=True), "\n".join([*result.errors, *result.warnings])

    return check
