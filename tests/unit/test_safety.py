"""Nothing unsafe reaches a learner's browser, and nothing outside the course reaches a package.

- every page has a Content-Security-Policy meta tag that allows only the package's own files;
- no page carries script that the builder did not write: no event-handler attributes, no
  `javascript:`/`data:` addresses, no raw HTML from Markdown;
- hostile Markdown is refused with a located diagnostic (and is stripped even if it got through);
- media is copied only from inside the course folder;
- zip entry names are normalised: relative, ASCII, no `..`, no names Moodle would mangle.
"""

from __future__ import annotations

import posixpath
import re
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import html as lxml_html

from builder.errors import BuildFailed
from builder.markdown import RenderedMarkdown, render_markdown
from builder.package import Entry, entry_name_problem, write_package
from builder.pipeline import BuildSettings, build, validate
from builder.render import render_inline
from builder.text import unsafe_url
from tests.conftest import FIXTURES, REPO

GOOD = REPO / "tests" / "bad_courses" / "_good"
COURSES = {"module-7": REPO / "course", "corpus": GOOD, "minimal": FIXTURES / "minimal"}
#: Tags whose address the browser loads (or runs) by itself, without a click.
LOADING = {
    "script": "src",
    "img": "src",
    "link": "href",
    "source": "src",
    "video": "src",
    "audio": "src",
    "track": "src",
    "iframe": "src",
    "embed": "src",
    "object": "data",
}
CSP_META = re.compile(
    r'<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"', re.IGNORECASE
)


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every test course built in both modes: name -> zip path."""
    out: dict[str, Path] = {}
    for name, course in COURSES.items():
        for mode in ("single", "multi"):
            folder = tmp_path_factory.mktemp(f"{name}-{mode}")
            result = build(BuildSettings(course_dir=course, out_dir=folder, mode=mode))
            for output in result.outputs:
                out[f"{name}/{mode}/{output.target}"] = output.path
    return out


def pages(packages: dict[str, Path]) -> Iterator[tuple[str, zipfile.ZipFile, str, str]]:
    for label, path in sorted(packages.items()):
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if name.endswith(".html"):
                    yield label, zf, name, zf.read(name).decode("utf-8")


# ----------------------------------------------------------------------------- CSP


def csp_problems(policy: str) -> list[str]:
    """Why `policy` would let a page load or run anything but the package's own files."""
    problems = []
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = [w.lower() for w in words[1:]]
    if "default-src" not in directives:
        problems.append("no default-src: whatever is not named is allowed")
    for name, sources in directives.items():
        if not name.endswith("-src"):
            continue
        for source in sources:
            if source in ("'self'", "'none'"):
                continue
            if source == "'unsafe-inline'" and name == "style-src":
                continue
            problems.append(f"{name} allows {source}")
    script = directives.get("script-src", directives.get("default-src", []))
    if "'unsafe-inline'" in script or "'unsafe-eval'" in script:
        problems.append("scripts may be inline or eval'd")
    return problems


def test_the_csp_check_refuses_what_it_should() -> None:
    assert csp_problems("default-src 'self'") == []
    assert csp_problems("default-src 'none'; script-src 'self'; img-src 'self'") == []
    assert csp_problems("script-src 'self'")  # nothing for images, frames, ...
    assert csp_problems("default-src 'self'; img-src https:")
    assert csp_problems("default-src 'self' https://cdn.example.org")
    assert csp_problems("default-src *")
    assert csp_problems("default-src 'self'; script-src 'self' 'unsafe-inline'")
    assert csp_problems("default-src 'self'; img-src data:")


def test_every_page_has_a_csp_that_allows_only_the_package_files(
    packages: dict[str, Path],
) -> None:
    seen = 0
    for label, _zf, name, text in pages(packages):
        seen += 1
        found = CSP_META.findall(text)
        assert len(found) == 1, f"{label}:{name} has {len(found)} CSP meta tags"
        assert csp_problems(found[0]) == [], f"{label}:{name}: {found[0]}"
        # A policy only governs what comes after it in the document.
        first_load = min(
            (i for i in (text.find("<script"), text.find("<link")) if i >= 0), default=len(text)
        )
        assert text.find(found[0]) < first_load, f"{label}:{name}: CSP after the first load"
    assert seen >= len(packages)


# ----------------------------------------------------------------------------- built pages


def test_pages_load_only_package_files_and_run_only_the_builders_script(
    packages: dict[str, Path],
) -> None:
    for label, zf, name, text in pages(packages):
        where = f"{label}:{name}"
        names = set(zf.namelist())
        doc = lxml_html.document_fromstring(text)
        for el in doc.iter():
            if not isinstance(el.tag, str):
                continue
            for attr, value in el.attrib.items():
                assert not attr.lower().startswith("on"), f"{where}: <{el.tag} {attr}=>"
                if attr in ("href", "src", "action", "data", "poster", "formaction"):
                    assert not unsafe_url(value), f"{where}: <{el.tag} {attr}={value!r}>"
            assert el.tag not in ("iframe", "object", "embed", "base"), f"{where}: <{el.tag}>"
            if el.tag == "script" and el.get("src") is None:
                # Data islands only; code comes from the package's own runtime files.
                assert el.get("type") == "application/json", f"{where}: inline script"
            attr = LOADING.get(el.tag)
            if attr and el.get(attr) is not None:
                target = posixpath.normpath(posixpath.join(posixpath.dirname(name), el.get(attr)))
                assert target in names, f"{where}: <{el.tag} {attr}> loads {el.get(attr)!r}"


def test_every_zip_entry_name_is_normalised(packages: dict[str, Path]) -> None:
    for label, path in packages.items():
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
        assert names[0] == "imsmanifest.xml", label
        assert len({n.lower() for n in names}) == len(names), f"{label}: names differ by case"
        for name in names:
            assert entry_name_problem(name) is None, f"{label}: {name}"
            assert posixpath.normpath(name) == name, f"{label}: {name}"


@pytest.mark.parametrize(
    "name",
    [
        "../evil.html",
        "/etc/passwd",
        "media/../../x",
        "a//b",
        "./a",
        "media\\x.png",
        "hand&out.pdf",
        "caf\u00e9.png",
        "media/.DS_Store",
        "__MACOSX/x",
        "a:b",
        "",
    ],
)
def test_unsafe_entry_names_are_refused(name: str, tmp_path: Path) -> None:
    assert entry_name_problem(name) is not None
    with pytest.raises(ValueError):
        write_package([Entry(name, data=b"x")], tmp_path / "p.zip", 0)
    assert not (tmp_path / "p.zip").exists()


# ----------------------------------------------------------------------------- hostile Markdown

HOSTILE = [
    ("<script>alert(1)</script>", "E352"),
    ("<SCRIPT SRC=https://evil.example/x.js></SCRIPT>", "E352"),
    ('<img src=x onerror="alert(1)">', "E352"),
    ("<svg/onload=alert(1)>", "E352"),
    ('<a href="javascript:alert(1)">x</a>', "E352"),
    ("<iframe src=https://evil.example></iframe>", "E352"),
    ("<style>body{display:none}</style>", "E352"),
    ("[x](javascript:alert(1))", "E351"),
    ("[x](JaVaScRiPt:alert(1))", "E351"),
    ("[x](&#106;avascript:alert(1))", "E351"),
    ("[x](vbscript:msgbox(1))", "E351"),
    ("[x](data:text/html,<script>alert(1)</script>)", "E351"),
    ("![x](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)", "E351"),
    ("[x](file:///etc/passwd)", "E351"),
    ("<javascript:alert(1)>", "E351"),
    ("[x][ref]\n\n[ref]: javascript:alert(1)", "E351"),
    ('[x](https://example.org){onclick="alert(1)"}', "E353"),
    ('{onmouseover="alert(1)"}\nA paragraph.', "E353"),
    ('[x](https://example.org){href="javascript:alert(1)"}', "E353"),
    ('![x](../media/diagram.png){style="position:fixed"}', "E353"),
]


def _hostile_course(tmp_path: Path, snippet: str) -> Path:
    course = tmp_path / "course"
    shutil.copytree(GOOD, course)
    unit = course / "units" / "intro.md"
    unit.write_text(unit.read_text() + "\n" + snippet + "\n", encoding="utf-8")
    return course


@pytest.mark.parametrize(("snippet", "code"), HOSTILE)
def test_hostile_markdown_is_refused_where_it_is_written(
    snippet: str, code: str, tmp_path: Path
) -> None:
    course = _hostile_course(tmp_path, snippet)
    with pytest.raises(BuildFailed) as failed:
        validate(course, "course")
    errors = [d for d in failed.value.diagnostics if d.severity == "error"]
    assert [(d.code, d.path) for d in errors] == [(code, "course/units/intro.md")]
    assert errors[0].line == 24  # the snippet's first line, after the 23 lines of intro.md


def _render(text: str) -> RenderedMarkdown:
    """A unit's Markdown rendered for learners, every link and image taken as written."""
    return render_markdown(
        text,
        doc_id="u",
        display="u.md",
        first_line=1,
        audience="learner",
        labels={},
        resolve_link=lambda href: (href, None),
        figure_image=lambda src: src,
    )


@pytest.mark.parametrize(("snippet", "_code"), HOSTILE)
def test_hostile_markdown_is_inert_even_unchecked(snippet: str, _code: str) -> None:
    """Defence in depth: the renderer itself never emits script, whatever the diagnostics."""
    rendered = _render(snippet)
    for html in (rendered.html, str(render_inline(snippet, {}))):
        doc = lxml_html.fragment_fromstring(html, create_parent="div")
        for el in doc.iter():
            assert el.tag not in ("script", "iframe", "style", "svg"), html
            for attr, value in el.attrib.items():
                assert not attr.lower().startswith("on"), html
                assert attr != "style", html
                assert not unsafe_url(value), html


# ----------------------------------------------------------------------------- media


def test_media_symlinked_from_outside_is_refused_and_never_packaged(tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(GOOD, course)
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(b"%PDF-1.4 private notes of the author")
    (course / "media" / "handout.pdf").unlink()
    (course / "media" / "handout.pdf").symlink_to(secret)
    out = tmp_path / "dist"
    with pytest.raises(BuildFailed) as failed:
        build(BuildSettings(course_dir=course, out_dir=out, display_root="course"))
    [error] = failed.value.diagnostics
    assert (error.code, error.path, error.line) == ("E350", "course/units/intro.md", 13)
    assert not out.exists() or not list(out.glob("*.zip"))


def test_a_symlink_inside_the_course_folder_is_fine(tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(GOOD, course)
    (course / "media" / "handout.pdf").unlink()
    (course / "media" / "handout.pdf").symlink_to(course / "media" / "diagram.png")
    result = build(BuildSettings(course_dir=course, out_dir=tmp_path / "dist"))
    for output in result.outputs:
        with zipfile.ZipFile(output.path) as zf:
            assert zf.read("media/handout.pdf") == (GOOD / "media" / "diagram.png").read_bytes()


def test_only_referenced_media_is_packaged(tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(GOOD, course)
    (course / "media" / "unused-draft.png").write_bytes(b"not for learners")
    result = build(BuildSettings(course_dir=course, out_dir=tmp_path / "dist"))
    for output in result.outputs:
        with zipfile.ZipFile(output.path) as zf:
            media = sorted(n for n in zf.namelist() if n.startswith("media/"))
        assert media == ["media/diagram.png", "media/handout.pdf"]


def test_table_alignment_uses_classes_not_style_attributes() -> None:
    """The CSP forbids inline styles, so aligned columns must still align through classes."""
    from builder.markdown import render_markdown

    out = render_markdown(
        "| a | b |\n|:--|--:|\n| 1 | 2 |\n",
        doc_id="u",
        display="u.md",
        first_line=0,
        audience="learner",
        labels={},
        resolve_link=lambda href: (href, None),
        figure_image=lambda src: None,
    )
    assert "style=" not in out.html
    assert 'class="align-left"' in out.html and 'class="align-right"' in out.html


# ----------------------------------------------------------------------------- active content


def _course_with_svg(tmp_path: Path, svg: str, allow: bool = False) -> Path:
    course = tmp_path / "course"
    shutil.copytree(GOOD, course)
    (course / "media" / "chart.svg").write_text(svg, encoding="utf-8")
    unit = course / "units" / "intro.md"
    unit.write_text(unit.read_text() + "\n![A chart](../media/chart.svg)\n", encoding="utf-8")
    if allow:
        yaml = course / "course.yaml"
        yaml.write_text(yaml.read_text() + "allow_active_media: true\n", encoding="utf-8")
    return course


SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4">{}</svg>\n'


def test_a_plain_svg_is_packaged(tmp_path: Path) -> None:
    svg = SVG.format('<a href="https://example.org/"><rect width="4" height="4"/></a>')
    course = _course_with_svg(tmp_path, svg)
    result = build(BuildSettings(course_dir=course, out_dir=tmp_path / "dist"))
    with zipfile.ZipFile(result.outputs[0].path) as zf:
        assert zf.read("media/chart.svg").decode() == svg


@pytest.mark.parametrize(
    "inside",
    [
        "<script>alert(1)</script>",
        '<rect width="4" height="4" onclick="alert(1)"/>',
        '<a href=" java\tscript:alert(1)"><rect width="4" height="4"/></a>',
        '<foreignObject width="4" height="4"/>',
        '<animate attributeName="onclick" to="alert(1)"/>',
    ],
)
def test_scripted_svg_is_refused_unless_the_course_allows_it(inside: str, tmp_path: Path) -> None:
    course = _course_with_svg(tmp_path / "refused", SVG.format(inside))
    with pytest.raises(BuildFailed) as failed:
        build(BuildSettings(course_dir=course, out_dir=tmp_path / "refused" / "dist"))
    [error] = failed.value.diagnostics
    assert (error.code, error.line) == ("E355", 24)
    allowed = _course_with_svg(tmp_path / "allowed", SVG.format(inside), allow=True)
    result = build(BuildSettings(course_dir=allowed, out_dir=tmp_path / "allowed" / "dist"))
    with zipfile.ZipFile(result.outputs[0].path) as zf:
        assert "media/chart.svg" in zf.namelist()


def test_the_facilitators_guide_has_the_packages_policy_with_its_style_hashed(
    tmp_path: Path,
) -> None:
    import base64
    import hashlib

    result = build(BuildSettings(course_dir=GOOD, out_dir=tmp_path, targets=("facilitator",)))
    text = result.outputs[0].path.read_text(encoding="utf-8")
    [policy] = CSP_META.findall(text)
    # The guide's CSS is inline: its hash is the only style allowed, and no script at all.
    style = re.search(r"<style>(.*?)</style>", text, re.DOTALL)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy.replace("&#39;", "'")
    assert csp_problems(policy.replace(f"'sha256-{digest}'", "'self'")) == []
    assert text.find("Content-Security-Policy") < text.find("<style>")


# ----------------------------------------------------------------------------- ids


def _anchors(text: str) -> list[str]:
    rendered = _render(text)
    assert [d.code for d in rendered.diagnostics if d.severity == "error"] == []
    return re.findall(r'\sid="([^"]*)"', rendered.html)


def test_a_heading_never_takes_an_authors_id_or_the_title_anchor() -> None:
    text = "## Details\n\n{#details}\nA paragraph.\n\n## Details\n\n## Title\n"
    assert _anchors(text) == ["u--details-2", "u--details", "u--details-3", "u--title-2"]


def test_equal_headings_are_numbered_in_linear_time() -> None:
    """20,000 equal headings: numbering each by trying every number before it (as before) made
    200 million tries, 40 s; now each number is found at once (a few hundredths of a second)."""
    import time

    from builder.markdown import _Anchors

    anchors = _Anchors([], "", lambda *_args, **_kw: None)
    started = time.perf_counter()
    slugs = [anchors.heading("same") for _ in range(20_000)]
    assert time.perf_counter() - started < 1
    assert slugs[:3] == ["same", "same-2", "same-3"] and slugs[-1] == "same-20000"
    assert _anchors("## Same\n\n" * 3) == ["u--same", "u--same-2", "u--same-3"]


def test_control_characters_and_lone_surrogates_in_yaml_text_are_refused() -> None:
    """YAML escapes can write any character; PyYAML's pure-Python loader (used where libyaml is
    missing) lets "\\ud800" through, so the check does not rely on libyaml refusing it."""
    from builder.sources import SourceFile
    from builder.validate import unsafe_text

    for bad in ("a\x01b", "a\ud800b", "\x7f", "\ufffe"):
        src = SourceFile("c.yaml", "c.yaml", {"title": bad}, {("title",): (3, 1)})
        [diag] = unsafe_text(src)
        assert (diag.code, diag.line) == ("E206", 3)
    ok = SourceFile("c.yaml", "c.yaml", {"title": "tab\tand\nnewline, ünïcödé 文字"}, {})
    assert unsafe_text(ok) == []


def test_source_date_epoch_past_the_zip_range_is_a_usage_error(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    for value, code in (("4354819200", 2), ("9" * 5000, 2), ("4354819199", 0)):
        proc = run_cli(
            "build",
            str(GOOD),
            "--out",
            str(tmp_path / value[:12]),
            "-q",
            env={"SOURCE_DATE_EPOCH": value},
        )
        assert proc.returncode == code, proc.stderr
        assert "Traceback" not in proc.stderr
        if code == 2:
            assert "SOURCE_DATE_EPOCH" in proc.stderr and "2107" in proc.stderr
            assert not (tmp_path / value[:12]).exists()
