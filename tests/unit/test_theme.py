"""Branding: `theme:` in course.yaml, its contrast checked, its stylesheet and logo packaged."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from lxml import html as lxml_html

from builder.model import Theme
from builder.pipeline import BuildSettings, build
from builder.theme import contrast, contrast_problems, palettes
from tests.conftest import run_cli


def test_contrast_is_wcag_2s_ratio() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#ffffff", "#ffffff") == pytest.approx(1)
    # The well-known borderline grey: #767676 passes AA on white, #777777 does not.
    assert contrast("#767676", "#ffffff") >= 4.5 > contrast("#777777", "#ffffff")


@pytest.mark.parametrize("accent", ["#0b5cad", "#7a3b8f", "#1d6b35", "#a11a1a", "#000", "#595959"])
def test_every_pair_of_a_readable_accent_passes_in_light_and_dark_pages(accent: str) -> None:
    theme = Theme(accent=accent)
    assert contrast_problems(theme) == []
    light, dark = palettes(theme)
    for palette in (light, dark):
        for _fg, fg, _bg, bg in palette.pairs():
            assert contrast(fg, bg) >= 4.5, (palette.scheme, fg, bg)


def _set_theme(course: Path, yaml: str) -> int:
    """Add a `theme:` block to course.yaml; the line it starts at."""
    path = course / "course.yaml"
    old = path.read_text(encoding="utf-8")
    path.write_text(old + yaml, encoding="utf-8")
    return len(old.splitlines()) + 1


def test_a_pale_accent_is_refused_naming_the_pair(minimal_course: Path) -> None:
    line = _set_theme(minimal_course, 'theme:\n  accent: "#f0c000"\n')
    proc = run_cli("validate", str(minimal_course))
    assert proc.returncode == 1
    assert re.search(
        rf"course\.yaml:{line + 1}:\d+: error\[E380\]: contrast of accent \(links, tabs, "
        r"steps\) #f0c000 on page background #ffffff is 1\.\d\d:1 in the light pages",
        proc.stderr,
    ), proc.stderr


def test_a_dark_accent_for_dark_pages_is_refused(minimal_course: Path) -> None:
    line = _set_theme(minimal_course, 'theme:\n  accent: "#0b5cad"\n  accent_dark: "#203040"\n')
    proc = run_cli("validate", str(minimal_course))
    assert proc.returncode == 1
    assert f"course.yaml:{line + 2}:" in proc.stderr
    assert "contrast of accent (links, tabs, steps) #203040 on page background #15181c" in (
        proc.stderr
    )
    assert "in the dark pages" in proc.stderr


@pytest.mark.parametrize(
    ("yaml", "words"),
    [
        ("  font: 'Arial; } body { background: url(x.png)'\n", "theme.font"),
        ("  accent: blue\n", "theme.accent"),
        ("  logo: media/missing.png\n", "logo 'media/missing.png' is not an image in media/"),
        ("  logo: units/rules.md\n", "is not an image in media/"),
        ("  colour: '#000000'\n", "colour"),
    ],
)
def test_theme_fields_written_wrong_are_errors(minimal_course: Path, yaml: str, words: str):
    _set_theme(minimal_course, "theme:\n" + yaml)
    proc = run_cli("validate", str(minimal_course))
    assert proc.returncode == 1
    assert words in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("mode", ["single", "multi"])
def test_the_theme_reaches_every_page_as_a_stylesheet_with_dark_pages(
    minimal_course: Path, tmp_path: Path, mode: str
) -> None:
    (minimal_course / "media" / "brand.png").write_bytes(
        (minimal_course / "media" / "tower.png").read_bytes()
    )
    _set_theme(
        minimal_course,
        "theme:\n  accent: '#7a3b8f'\n  logo: media/brand.png\n  font: Georgia, serif\n",
    )
    out = tmp_path / "dist"
    build(BuildSettings(course_dir=minimal_course, out_dir=out, targets=("scorm12",), mode=mode))
    (package,) = out.glob("*.zip")
    with zipfile.ZipFile(package) as zf:
        css = zf.read("assets/course-theme.css").decode()
        manifest = zf.read("imsmanifest.xml").decode()
        pages = [lxml_html.fromstring(zf.read(n)) for n in zf.namelist() if n.endswith(".html")]
        assert "media/brand.png" in zf.namelist()
    # Minified, as the other stylesheets are.
    assert "--accent:#7a3b8f;" in css and "\n" not in css and "/*" not in css
    assert "font-family:Georgia,serif}" in css
    dark = css.split("@media (prefers-color-scheme:dark)", 1)[1]
    assert "--paper:#15181c;" in dark and "--accent:#" in dark
    assert 'href="assets/course-theme.css"' in manifest
    for doc in pages:
        sheets = doc.xpath("//link[@rel='stylesheet']/@href")
        # After the base theme, so that its values win.
        assert sheets.index("assets/course-theme.css") > sheets.index("assets/theme.css")
        assert doc.xpath("//img[@class='course-logo']/@alt") == [""]
        assert doc.xpath("//*[@style] | //style") == []


def test_a_course_without_a_theme_gets_no_theme_stylesheet(minimal_course: Path, tmp_path: Path):
    out = tmp_path / "dist"
    build(BuildSettings(course_dir=minimal_course, out_dir=out, targets=("scorm2004",)))
    (package,) = out.glob("*.zip")
    with zipfile.ZipFile(package) as zf:
        assert "assets/course-theme.css" not in zf.namelist()
        assert b"course-theme.css" not in zf.read("index.html")
