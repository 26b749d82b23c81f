"""Shared test fixtures: paths, the official SCORM schema validator, golden-file updates."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "courses"
GOLDEN = REPO / "tests" / "golden"
SCHEMAS = REPO.parent / "shared" / "schemas"


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
    """../shared/schemas/validate.py, loaded once (it compiles each schema once)."""
    path = SCHEMAS / "validate.py"
    if not path.is_file():
        pytest.fail(f"the official SCORM schemas are missing: {path}")
    spec = importlib.util.spec_from_file_location("scorm_validate", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def assert_schema_valid(scorm_validator: ModuleType):
    """Assert that manifest bytes pass validate.py --strict (errors and warnings both fail)."""

    def check(xml: bytes, name: str = "imsmanifest.xml") -> None:
        result = scorm_validator.validate_bytes(xml, name)
        assert result.ok(strict=True), "\n".join([*result.errors, *result.warnings])

    return check
