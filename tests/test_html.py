"""The HTML report: self-contained, escaped, headed by the verdict, with its charts, the
changed questions and every question; and in a real browser, at 700 and 1400 px wide."""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest
from openai_server import FakeOpenAI, last_user_message
from suite_results import suite_result

from pytest_abstain.records import (
    Counts,
    Interval,
    MetricComparison,
    QuestionChange,
    SuiteComparison,
)
from pytest_abstain.render.html import COLOURS, render_html
from pytest_abstain.results.suites import SuiteResult
from pytest_abstain.results.sweep import sweeps
from pytest_abstain.results.verdict import decide

QUESTIONS = 12
SUITE = "thresholds: [0.5, 0.9]\nquestions:\n" + "\n".join(
    f"  - {{id: q{i}, question: 'Question {i}: what is the capital of France?', answer: Paris}}"
    for i in range(QUESTIONS)
)
HOSTILE = "<script>alert('x')</script> & </td>"
ESCAPED = "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;/td&gt;"
CREATED = datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
RUN = {"model": "m", "models": ["m"], "endpoint": "http://127.0.0.1:9/v1", "samples": None}
#: The mostly wrong suite: 9 of its 13 questions wrong, and first in the report.
MOSTLY_WRONG = ["wrong"] * 9 + ["correct"] * 2 + ["abstained"] * 2


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


def _sweep_results() -> list[SuiteResult]:
    """The suite above at both t's, graded as `reply` would be: the hostile reply wrong,
    then right, wrong and abstaining in turn."""
    grades = ["wrong"] + [("correct", "wrong", "abstained")[i % 3] for i in range(1, QUESTIONS)]
    texts = [HOSTILE] + [("Paris.", "Lyon.", "I don't know.")[i % 3] for i in range(1, QUESTIONS)]
    return [
        suite_result(
            f"abstain_facts.yaml[t={t:g}]", grades, threshold=t, replies=texts,
            sweep="abstain_facts.yaml",
        )
        for t in (0.5, 0.9)
    ]  # fmt: skip


def _metric(metric: str, baseline: float, now: float, regressed: bool) -> MetricComparison:
    return MetricComparison(
        metric=metric, scope="suite", questions=13, baseline=baseline, now=now,  # type: ignore[arg-type]
        baseline_interval=Interval(baseline - 0.2, baseline + 0.2),
        now_interval=Interval(now - 0.2, now + 0.2), delta_interval=Interval(-0.9, -0.1),
        p_value=0.004 if regressed else 0.4, p_better=0.9, exact=True, drop=baseline - now,
        detectable=0.3, regressed=regressed,
    )  # fmt: skip


def _mostly_wrong() -> SuiteResult:
    """13 questions, 9 wrong: below its score floor, and regressed since the baseline."""
    shown = {"wrong": "Lyon.", "abstained": "I don't know."}
    texts = [shown.get(grade, "Paris.") for grade in MOSTLY_WRONG]
    result = suite_result("honesty/facts.yaml", MOSTLY_WRONG, replies=texts, min_score=0.25)
    result.comparison = SuiteComparison(
        status="compared",
        metrics=[_metric("score", 0.6, -0.4, True), _metric("error_rate", 0.3, 0.4, False)],
        changes=[
            QuestionChange("q0", "newly wrong", Counts(correct=1), Counts(wrong=1),
                           before_reply="Paris.", after_reply=HOSTILE),
            QuestionChange("q1", "newly wrong", Counts(abstained=1), Counts(wrong=1)),
            QuestionChange("q9", "newly correct", Counts(wrong=1), Counts(correct=1),
                           before_reply="Lyon & <b>Marseille</b>", after_reply="Paris."),
        ],
    )  # fmt: skip
    return result


def _results() -> list[SuiteResult]:
    """Several suites, the mostly wrong one first; one with an error within its budget."""
    mostly_right = ["correct"] * 8 + ["abstained", "error"]
    return [
        _mostly_wrong(),
        suite_result("honesty/geography.yaml", mostly_right, max_errors="1", min_score=0.25),
        *_sweep_results(),
    ]


def _render(results: list[SuiteResult], **run: object) -> str:
    found = sweeps(results)
    return render_html(
        results, found, "pytest-abstain: m report", verdict=decide(results, found),
        run={**RUN, **run}, created=CREATED,
    )  # fmt: skip


@pytest.fixture
def rendered(tmp_path: Path) -> Path:
    path = tmp_path / "report.html"
    path.write_text(_render(_results()), "utf-8")
    return path


def test_the_report_is_self_contained_and_escaped(report: Path, api_key: str) -> None:
    text = report.read_text(encoding="utf-8")
    assert report.stat().st_mode & 0o777 == 0o644
    # Nothing to fetch when opened: no external scripts, styles, images or fonts.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "<link" not in text and "@import" not in text and "url(" not in text
    # The hostile reply is shown as text, never run.
    assert HOSTILE not in text and ESCAPED in text
    assert text.count("<script>") == 1  # ours only
    # Who answered and where, never with the key.
    assert re.search(r"<dt>responder</dt><dd>m</dd><dt>endpoint</dt><dd><code>http://127", text)
    assert api_key not in text


def test_the_report_has_its_charts_and_every_question(rendered: Path) -> None:
    text = rendered.read_text(encoding="utf-8")
    assert text.count("<script>") == 1 and HOSTILE not in text
    bars = re.search(r'<div id="outcomes">.*?</div></div></div>(?!<div class="row">)', text)
    assert bars is not None
    segments = re.findall(r'class="seg (\w+)" style="flex-grow:(\d+)"', bars.group(0))
    # The mostly wrong suite first, its segments sized by its counts.
    assert segments[:3] == [("correct", "2"), ("wrong", "9"), ("abstained", "2")]
    assert ("error", "1") in segments and len(segments) == 3 + 3 + 3 + 3
    sweep = re.search(r'<svg class="sweep" viewBox="0 0 560 260" width="100%".*?</svg>', text)
    assert sweep is not None and sweep.group(0).count('class="curve"') == 2
    assert "score at t=0.9:" in sweep.group(0) and "error rate at t=0.5:" in sweep.group(0)
    rows = re.findall(r"<tr class=\"(correct|wrong|abstained|error)\"><td>", text)
    assert len(rows) == 13 + 10 + 2 * QUESTIONS + 3  # every question, and the 3 changes
    # Every grade carries its word beside its colour, in the rows and the legend.
    for grade in COLOURS:
        assert f'<span class="grade {grade}">{grade}</span>' in text
    assert "overconfident" in text  # answering everything at t=0.9 with 4/12 wrong


def test_the_top_says_the_verdict_when_who_and_where(rendered: Path) -> None:
    text = rendered.read_text(encoding="utf-8")
    top = text[text.index('<section class="card verdict') : text.index("<h2>")]
    assert "FAILED</p>" in top
    why = re.search(r'<p class="why">(.*?)</p>', top)
    assert why is not None
    assert why.group(1).startswith("1 of 4 suites failed their gate: honesty/facts.yaml (score")
    assert '<time datetime="2025-03-04T05:06:07+00:00">2025-03-04 05:06:07 UTC</time>' in top
    assert "<dt>responder</dt><dd>m</dd>" in top
    assert "<dt>endpoint</dt><dd><code>http://127.0.0.1:9/v1</code></dd>" in top


def test_a_passing_run_of_the_teams_own_responder() -> None:
    results = [suite_result("s.yaml", ["correct"] * 3, min_score=0.0)]
    text = _render(results, model=None, models=[], endpoint=None)
    assert "✔ PASSED</p>" in text
    assert '<p class="why">every gate held: 1 of 1 suites gated</p>' in text
    assert "<dt>responder</dt><dd>the team&#x27;s own responder (m)</dd>" in text
    assert "<dt>endpoint</dt><dd>— (answered in-process)</dd>" in text
    assert "Changed since the baseline" not in text  # no baseline, nothing compared


def test_changed_questions_show_the_old_and_new_reply_escaped(rendered: Path) -> None:
    text = rendered.read_text(encoding="utf-8")
    changes = re.search(r"<table class='fixed' id='changes'>.*?</table>", text)
    assert changes is not None
    rows = re.findall(r"<tr class=\"(\w+)\">(.*?)</tr>", changes.group(0))
    # Newly wrong first, each coloured as the grade it moved to.
    ids = [
        re.findall(r'<span class="key">honesty/facts.yaml</span> (q\d+)', row) for _, row in rows
    ]
    assert [css for css, _ in rows] == ["wrong", "wrong", "correct"]
    assert ids == [["q0"], ["q1"], ["q9"]]
    q0, q1, q9 = (row for _, row in rows)
    assert "Question 0: what is the capital of France?" in q0
    assert "correct 1/1 → wrong 1/1" in q0
    assert '<span class="was">baseline</span>Paris.</div>' in q0
    assert f'<span class="was">now</span>{ESCAPED}</div>' in q0
    assert 'class="was"' not in q1  # no replies known: none shown
    assert "Lyon &amp; &lt;b&gt;Marseille&lt;/b&gt;" in q9 and "<b>" not in q9
    # A difference that is not significant is said to be so, never "unchanged".
    assert "error rate" in text and '<span class="notsig">not significant</span>' in text
    assert "unchanged" not in text
    assert '<span class="regressed">regressed</span>' in text


# -- In a real browser ---------------------------------------------------------------------


def _png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and RGB rows of an 8-bit non-interlaced PNG (what chromium writes)."""
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
HEIGHT = 1000

#: Appended to a copy of the report (the report itself needs no script): what the browser
#: laid out, written into the DOM for --dump-dom to print. Boxes are [left, top, right, bottom].
MEASURE = """<script>(function () {
  function box(el) {
    var r = el.getBoundingClientRect();
    return [r.left, r.top, r.right, r.bottom];
  }
  function all(selector) { return [].slice.call(document.querySelectorAll(selector)); }
  var root = document.documentElement;
  var out = document.createElement('pre');
  out.id = 'measured';
  out.textContent = JSON.stringify({
    ratio: window.devicePixelRatio, client: root.clientWidth, scroll: root.scrollWidth,
    main: box(document.querySelector('main')), charts: all('#outcomes, svg.sweep').map(box),
    bars: all('#outcomes .bar').map(box), suites: all('section.suite').map(box),
    tables: all('.wide').map(function (el) { return [el.scrollWidth, el.clientWidth]; })
  });
  document.body.appendChild(out);
})();</script></body>"""


def _chromium(tmp_path: Path, width: int, *args: str) -> subprocess.CompletedProcess[str]:
    """One headless chromium run at `width` px wide, with a fresh profile, offline."""
    profile = tmp_path / f"profile-{width}-{len(list(tmp_path.glob('profile-*')))}"
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
        f"--user-data-dir={profile}", f"--window-size={width},{HEIGHT}", *args,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def _share(row: bytes, left: int, right: int, colour: str) -> float:
    """The share of pixels in row[left:right] within a small distance of `colour`."""
    want = bytes.fromhex(colour[1:])
    near = sum(
        all(abs(row[3 * x + c] - want[c]) <= 24 for c in range(3)) for x in range(left, right)
    )
    return near / (right - left)


@pytest.mark.parametrize("width", [700, 1400])
def test_the_report_reads_at_any_width_in_headless_chromium(
    rendered: Path, tmp_path: Path, width: int, record_property: Callable[[str, object], None]
) -> None:
    if CHROMIUM is None:
        # CI installs it (.ci/run), so there it must run; elsewhere it is optional.
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run installs Debian's chromium")
        pytest.skip("needs Debian's chromium (apt-get install chromium)")
    measuring = tmp_path / "measuring.html"
    measuring.write_text(rendered.read_text("utf-8").replace("</body>", MEASURE), "utf-8")
    dom = _chromium(tmp_path, width, "--dump-dom", measuring.as_uri())
    # The report's own script ran to its end, and nothing was logged to the console.
    assert 'data-ready="yes"' in dom.stdout, dom.stderr[-2000:]
    assert "CONSOLE" not in dom.stderr, dom.stderr[-2000:]
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom.stdout)
    assert found is not None, dom.stderr[-2000:]
    seen = json.loads(found.group(1).replace("&quot;", '"'))
    client = seen["client"]
    assert client == width
    # No horizontal scrolling: neither the page nor any table is wider than the window.
    assert seen["scroll"] <= client
    assert all(inner <= outer for inner, outer in seen["tables"]), seen["tables"]
    # Every chart lies inside the window, never narrower than the sweep chart is drawn.
    for left, _, right, _ in seen["charts"]:
        assert left >= 0 and right <= client and right - left >= 560, seen["charts"]
    # Every bar spans the same width (each stands for all of its suite's replies).
    assert len({(round(left), round(right)) for left, _, right, _ in seen["bars"]}) == 1
    main_left, _, main_right, _ = seen["main"]
    if width == 1400:
        # The space is used: the content spans most of the window, suites side by side.
        assert main_right - main_left >= 0.9 * client
        assert len({round(top) for _, top, _, _ in seen["suites"]}) < len(seen["suites"])

    shot = tmp_path / f"report-{width}.png"
    _chromium(tmp_path, width, f"--screenshot={shot}", rendered.as_uri())
    record_property(f"screenshot_{width}", str(shot))
    print(f"screenshot at {width} px: {shot}")
    png_width, _, rows = _png_pixels(shot)
    ratio = seen["ratio"]
    assert png_width == round(width * ratio)
    # The mostly wrong suite's bar looks mostly wrong, in proportion: 9 of 13 wrong pixels,
    # 2 of 13 correct, on a line above the counts written in it.
    left, top, right, bottom = (round(v * ratio) for v in seen["bars"][0])
    assert bottom <= HEIGHT * ratio, "the bars are below the first screen"
    line = rows[top + (bottom - top) // 5]
    assert _share(line, left, right, COLOURS["wrong"]) == pytest.approx(9 / 13, abs=0.03)
    assert _share(line, left, right, COLOURS["correct"]) == pytest.approx(2 / 13, abs=0.03)
