"""The preview server: simulator page, builds served from tmp, rebuild on change, errors shown."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from builder.preview import Preview
from tests.conftest import FIXTURES


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as res:
            return res.status, res.headers.get("Content-Type", ""), res.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


def build_info(preview: Preview) -> dict:
    return json.loads(fetch(preview.url + "__build")[2])


def wait_for_generation(preview: Preview, after: int, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = build_info(preview)
        if info["generation"] > after:
            return info
        time.sleep(0.1)
    raise AssertionError(f"no rebuild after generation {after} within {timeout} s")


@pytest.fixture
def served(minimal_course: Path):
    course = minimal_course
    builds = []
    preview = Preview(course, display_root="course", port=0, on_build=builds.append)
    preview.start(watch=True)
    yield preview, course, builds
    preview.stop()


def test_serves_the_simulator_and_both_scorm_versions(served):
    preview, _, builds = served
    assert preview.url.startswith("http://127.0.0.1:")
    status, ctype, body = fetch(preview.url)
    assert status == 200 and ctype.startswith("text/html")
    assert b"LMS simulator" in body and b"/__sim/sim.js" in body
    status, _, js = fetch(preview.url + "__sim/sim.js")
    assert status == 200
    for name in (b"LMSInitialize", b"LMSFinish", b"Initialize", b"Terminate", b"API_1484_11"):
        assert name in js
    info = build_info(preview)
    assert info["ok"] is True and info["generation"] == 1 and builds[0].ok
    assert info["course"]["id"] == "minimal-course"
    for target, version in (("scorm12", "1.2"), ("scorm2004", "2004")):
        entry = info["targets"][target]
        assert entry["version"] == version
        [sco] = entry["scos"]
        assert sco["href"] == "index.html"
        status, ctype, page = fetch(preview.url + f"content/{target}/index.html")
        assert status == 200 and ctype.startswith("text/html")
        assert b'<html lang="en"' in page
        status, _, manifest = fetch(preview.url + f"content/{target}/imsmanifest.xml")
        assert status == 200 and b"<manifest" in manifest
    assert info["targets"]["scorm12"]["scos"][0]["masteryScore"] == "50"


@pytest.mark.parametrize(
    "path",
    [
        "/content/scorm12/../../../../etc/passwd",
        "/content/scorm12/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/content/scorm12/..%2f..%2fcourse.yaml",
        "/content/elsewhere/index.html",
        "/nothing-here",
    ],
)
def test_nothing_outside_the_build_is_served(served, path):
    preview = served[0]
    host, port = preview.server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("GET", path)  # sent as written: no client-side normalisation
    res = conn.getresponse()
    assert res.status == 404
    assert b"root:" not in res.read()
    conn.close()


def test_a_course_change_rebuilds_errors_are_shown_and_the_server_stays_up(served):
    preview, course, builds = served
    yaml_file = course / "course.yaml"
    good = yaml_file.read_text()
    yaml_file.write_text(good.replace("language: en", "language: en\ncolour: blue"))
    info = wait_for_generation(preview, 1)
    assert info["ok"] is False
    assert any(
        d["code"] == "E202" and d["text"].startswith("course/course.yaml:")
        for d in info["diagnostics"]
    )
    assert builds[-1].ok is False
    # The last good build is still served while the author fixes the error.
    assert fetch(preview.url + "content/scorm12/index.html")[0] == 200
    assert fetch(preview.url)[0] == 200

    yaml_file.write_text(good.replace("Minimal course: water safety", "Water safety, second try"))
    info = wait_for_generation(preview, info["generation"])
    assert info["ok"] is True and info["goodGeneration"] == info["generation"]
    assert info["course"]["title"] == "Water safety, second try"
    assert b"Water safety, second try" in fetch(preview.url + "content/scorm2004/index.html")[2]


def test_multi_sco_packages_list_every_sco(tmp_path):
    preview = Preview(FIXTURES / "minimal", mode="multi", port=0)
    try:
        state = preview.rebuild()
        scos = state.targets["scorm12"]["scos"]
        assert [s["href"] for s in scos] == [
            "index.html",
            "rules.html",
            "practice.html",
            "check.html",
        ]
        assert [s["masteryScore"] for s in scos] == [None, None, None, "50"]
    finally:
        preview.stop()


def test_stop_removes_the_temporary_builds(tmp_path):
    preview = Preview(FIXTURES / "minimal", port=0)
    preview.start(watch=False)
    folder = preview.folder
    assert folder is not None and (folder / "scorm12" / "index.html").is_file()
    preview.stop()
    assert not folder.exists()


# --------------------------------------------------------------------------- failures and hosts


def test_a_rebuild_that_raises_is_reported_and_the_watcher_lives_on(served, monkeypatch):
    preview, course, builds = served
    real_build = preview._build_into
    calls = []

    def failing_once(out):
        calls.append(out)
        if len(calls) == 1:
            raise ValueError("a builder bug")
        return real_build(out)

    monkeypatch.setattr(preview, "_build_into", failing_once)
    yaml_file = course / "course.yaml"
    yaml_file.write_text(yaml_file.read_text().replace("Minimal course", "Crash course"))
    info = wait_for_generation(preview, 1)
    assert info["ok"] is False and info["goodGeneration"] == 1
    [diag] = info["diagnostics"]
    assert diag["code"] == "E900" and diag["path"] == "course"
    assert "ValueError: a builder bug" in diag["message"]
    assert builds[-1].ok is False
    assert fetch(preview.url + "content/scorm12/index.html")[0] == 200  # the last good build
    # The next save builds again: the watcher survived.
    yaml_file.write_text(yaml_file.read_text().replace("Crash course", "Second course"))
    info = wait_for_generation(preview, info["generation"])
    assert info["ok"] is True and info["course"]["title"].startswith("Second course")


def test_the_course_folder_replaced_while_watched_is_built_again(served, tmp_path):
    preview, course, _ = served
    backup = shutil.copytree(course, tmp_path / "backup")
    shutil.rmtree(course)
    info = wait_for_generation(preview, 1)
    assert info["ok"] is False and info["diagnostics"][0]["code"] == "E100"
    edit = backup / "course.yaml"
    edit.write_text(edit.read_text().replace("Minimal course", "Restored course"))
    shutil.copytree(backup, course)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        info = build_info(preview)
        if info["ok"]:
            break
        time.sleep(0.1)
    assert info["ok"] is True and info["course"]["title"].startswith("Restored course")


def raw_request(preview: Preview, path: str, host: str | None = "auto", extra_host: bool = False):
    """Send a GET exactly as written, with the given Host header (None: none at all)."""
    port = preview.server.server_port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
    if host is not None:
        conn.putheader("Host", f"127.0.0.1:{port}" if host == "auto" else host)
    if extra_host:
        conn.putheader("Host", "evil.example")
    conn.endheaders()
    res = conn.getresponse()
    body = res.read()
    conn.close()
    return res.status, body


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/content/scorm12/%00", 400),
        ("/%00", 400),
        ("/content/scorm12/index.html%00.png", 400),
        ("/content/%00/index.html", 400),
        ("/__build%00", 400),
        ("/content/scorm12/%ff%fe.html", 404),
        ("/content/scorm12/" + "a" * 5000 + ".html", 404),
        ("/content/scorm12/" + "a/" * 3000, 404),
        ("/content/scorm12/..%5c..%5cetc%5cpasswd", 404),
        ("/content/scorm12/index.html?q=%00", 200),
        ("/content/scorm12/index.html#%00", 200),
    ],
)
def test_odd_urls_get_a_plain_answer_and_print_nothing(served, capfd, path, status):
    preview = served[0]
    got, body = raw_request(preview, path)
    assert got == status
    assert b"root:" not in body
    # The server keeps answering, and nothing was printed (no traceback).
    assert raw_request(preview, "/__build")[0] == 200
    out, err = capfd.readouterr()
    assert out == "" and err == ""


@pytest.mark.parametrize(
    "host", ["127.0.0.1:{port}", "localhost:{port}", "LocalHost:{port}", "[::1]:{port}",
             "127.0.0.1", "localhost", "[::1]"],
)  # fmt: skip
def test_loopback_host_names_are_served(served, host):
    preview = served[0]
    port = preview.server.server_port
    for path in ("/", "/__build", "/content/scorm12/index.html"):
        assert raw_request(preview, path, host.format(port=port))[0] == 200


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:{port}",
        "127.0.0.1.evil.example:{port}",
        "localhost.evil.example",
        "localhost:{other}",
        "127.0.0.2:{port}",
        "0.0.0.0:{port}",
        "[::ffff:127.0.0.1]:{port}",
        "",
        None,
    ],
)
def test_other_host_names_are_refused_against_dns_rebinding(served, host):
    preview = served[0]
    port = preview.server.server_port
    value = None if host is None else host.format(port=port, other=port + 1)
    for path in (
        "/",
        "/__build",
        "/content/scorm12/index.html",
        "/content/scorm12/imsmanifest.xml",
    ):
        status, body = raw_request(preview, path, value)
        assert status == 403
        assert f"http://127.0.0.1:{port}/".encode() in body
        assert b"minimal-course" not in body and b"<html" not in body


def test_two_host_headers_are_refused(served):
    preview = served[0]
    assert raw_request(preview, "/__build", extra_host=True)[0] == 403


def test_a_port_in_use_leaves_no_temporary_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError):
            Preview(FIXTURES / "minimal", port=taken.getsockname()[1])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("HEAD", "/%00", 400), ("HEAD", "/__build", 200), ("POST", "/__build", 501),
     ("PUT", "/content/scorm12/index.html", 501), ("GET", "not-a-path", 404)],
)  # fmt: skip
def test_other_methods_and_forms_print_nothing(served, capfd, method, path, status):
    preview = served[0]
    conn = http.client.HTTPConnection("127.0.0.1", preview.server.server_port, timeout=10)
    conn.request(method, path)
    res = conn.getresponse()
    body = res.read()
    conn.close()
    assert res.status == status
    assert b"minimal-course" not in body  # HEAD has no body; the others are refused
    assert capfd.readouterr() == ("", "")
