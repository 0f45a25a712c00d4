"""The HTML report: self-contained, escaped, with its charts and table; and in a real browser."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from openai_server import FakeOpenAI, last_user_message
from suite_results import suite_result

from pytest_abstain.render.html import COLOURS, render_html
from pytest_abstain.results.sweep import sweeps

QUESTIONS = 12
SUITE = "thresholds: [0.5, 0.9]\nquestions:\n" + "\n".join(
    f"  - {{id: q{i}, question: 'Question {i}: what is the capital of France?', answer: Paris}}"
    for i in range(QUESTIONS)
)
HOSTILE = "<script>alert('x')</script> & </td>"


def reply(messages: list[dict[str, object]]) -> str:
    prompt = last_user_message(messages)
    number = int(re.search(r"Question (\d+)", prompt).group(1))  # type: ignore[union-attr]
    if number == 0:
        return HOSTILE
    return ("Paris.", "Lyon.", "I don't know.")[number % 3]


@pytest.fixture
def report(pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str) -> Path:
    pytester.makefile(".yaml", abstain_facts=SUITE)
    openai_server.responder = reply
    result = pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", openai_server.base_url,
        "--abstain-html", "out/report.html",
    )  # fmt: skip
    result.stdout.fnmatch_lines(["HTML report: */out/report.html"])
    return pytester.path / "out" / "report.html"


@pytest.fixture
def rendered(tmp_path: Path) -> Path:
    """The report of the suite above, rendered directly from results graded as `reply` would
    be: the hostile reply wrong, then right, wrong and abstaining in turn, at both t's."""
    grades = ["wrong"] + [("correct", "wrong", "abstained")[i % 3] for i in range(1, QUESTIONS)]
    texts = [HOSTILE] + [("Paris.", "Lyon.", "I don't know.")[i % 3] for i in range(1, QUESTIONS)]
    per_t = [
        suite_result(
            f"abstain_facts.yaml[t={t:g}]",
            grades,
            threshold=t,
            replies=texts,
            sweep="abstain_facts.yaml",
        )
        for t in (0.5, 0.9)
    ]
    path = tmp_path / "report.html"
    path.write_text(render_html(per_t, sweeps(per_t), "pytest-abstain: m report"), "utf-8")
    return path


def test_the_report_is_self_contained_and_escaped(report: Path) -> None:
    text = report.read_text(encoding="utf-8")
    assert report.stat().st_mode & 0o777 == 0o644
    # Nothing to fetch when opened: no external scripts, styles, images or fonts.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "<link" not in text and "@import" not in text and "url(" not in text
    # The hostile reply is shown as text, never run.
    assert HOSTILE not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;/td&gt;" in text
    assert text.count("<script>") == 1  # ours only


def test_the_report_has_its_charts_and_every_question(rendered: Path) -> None:
    text = rendered.read_text(encoding="utf-8")
    assert text.count("<script>") == 1 and HOSTILE not in text
    bars = re.search(r'<svg id="outcomes".*?</svg>', text, re.S)
    assert bars is not None
    # Two suites (one per t), each with correct, wrong and abstained shares.
    for grade in ("correct", "wrong", "abstained"):
        assert bars.group(0).count(f'class="{grade}"') == 2
    assert 'class="error"' not in bars.group(0)
    sweep = re.search(r'<svg class="sweep".*?</svg>', text, re.S)
    assert sweep is not None and sweep.group(0).count('class="curve"') == 2
    assert "score at t=0.9:" in sweep.group(0) and "error rate at t=0.5:" in sweep.group(0)
    rows = re.findall(r"<tr class=\"(correct|wrong|abstained|error)\">", text)
    assert len(rows) == 2 * QUESTIONS
    assert "overconfident" in text  # answering everything at t=0.9 with 4/12 wrong


def _png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and RGB(A) rows of an 8-bit non-interlaced PNG (what chromium writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks += body
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6)
    channels = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(chunks), width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                line[i] = (line[i] + pred) & 255
        rows.append(bytes(line[j] for j in range(stride) if j % channels < 3))
        previous = line
    return width, height, rows


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_the_report_renders_in_headless_chromium(rendered: Path, tmp_path: Path) -> None:
    if CHROMIUM is None:
        # CI installs it (.ci/run), so there it must run; elsewhere it is optional.
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run installs Debian's chromium")
        pytest.skip("needs Debian's chromium (apt-get install chromium)")
    profile = f"--user-data-dir={tmp_path / 'profile'}"
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--enable-logging=stderr", "--v=0", profile]  # fmt: skip
    dom = subprocess.run(
        [*base, "--dump-dom", rendered.as_uri()], capture_output=True, text=True, timeout=120
    )
    # Our script ran to its end, and nothing was logged to the console.
    assert 'data-ready="yes"' in dom.stdout, dom.stderr[-2000:]
    assert "CONSOLE" not in dom.stderr, dom.stderr[-2000:]
    shot = tmp_path / "report.png"
    subprocess.run(
        [*base, f"--screenshot={shot}", "--window-size=1200,1600", rendered.as_uri()],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    width, height, rows = _png_pixels(shot)
    assert (width, height) == (1200, 1600)
    seen = set()
    for row in rows:
        for i in range(0, len(row), 3):
            seen.add(row[i : i + 3])
    # The outcome bars and the error-rate curve are drawn in their colours.
    for grade in ("correct", "wrong", "abstained"):
        rgb = bytes.fromhex(COLOURS[grade][1:])
        assert rgb in seen, f"no {grade} pixels in the screenshot"
