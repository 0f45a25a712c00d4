"""The HTML report: one self-contained file, charts as inline SVG, no network fetches (pure).

Per suite the verdict and metrics with baseline deltas; a bar of outcome shares per suite;
for a threshold sweep, the score and error-rate curves over t with their intervals; and a
searchable table of every question with its replies and grades.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from ..results.suites import SuiteResult, leaderboard
from ..results.sweep import Sweep
from ..shown import format_number, format_percent, format_rate
from .wording import UNTESTABLE, curve_shown, judge_line, stated_line, undecided_line

COLOURS = {"correct": "#2e7d32", "wrong": "#c62828", "abstained": "#1565c0", "error": "#757575"}
SCORE_COLOUR = "#6a1b9a"
_VERDICT_CLASS = {"passed": "pass", "failed": "fail"}

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}
.pass{color:#2e7d32}.fail{color:#c62828}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .5em;
text-align:left;vertical-align:top}th{background:#f4f4f4}
.legend span{display:inline-block;margin-right:1em}.swatch{display:inline-block;width:.9em;
height:.9em;margin-right:.3em;vertical-align:middle}
#filter{width:30em;padding:.3em;margin:.5em 0}.reply{white-space:pre-wrap;max-width:40em}
"""

_SCRIPT = """
document.getElementById('filter').addEventListener('input', function (event) {
  var needle = event.target.value.toLowerCase();
  var rows = document.querySelectorAll('#questions tbody tr');
  var shown = 0;
  rows.forEach(function (row) {
    var match = row.textContent.toLowerCase().indexOf(needle) !== -1;
    row.style.display = match ? '' : 'none';
    if (match) { shown += 1; }
  });
  document.getElementById('shown').textContent = shown + ' of ' + rows.length;
});
document.body.setAttribute('data-ready', 'yes');
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def outcome_bars(results: Sequence[SuiteResult]) -> str:
    """One horizontal bar per suite: the shares of correct, wrong, abstained and error."""
    width, bar, gap, label = 560, 22, 10, 400
    height = len(results) * (bar + gap) + gap
    parts = [
        f'<svg id="outcomes" role="img" '
        f'width="{label + width + 10}" height="{height}" '
        f'aria-label="Outcome shares per suite">'
    ]
    for i, result in enumerate(results):
        y = gap + i * (bar + gap)
        counts = result.counts
        total = counts.total or 1
        parts.append(
            f'<text x="0" y="{y + bar * 0.7:.1f}" font-size="12">{_e(result.info.key)}</text>'
        )
        x = float(label)
        for grade in ("correct", "wrong", "abstained", "error"):
            n = getattr(counts, grade)
            w = width * n / total
            if w > 0:
                parts.append(
                    f'<rect class="{grade}" x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" '
                    f'fill="{COLOURS[grade]}"><title>{grade}: {n} of {counts.total}</title></rect>'
                )
            x += w
    parts.append("</svg>")
    return "".join(parts)


def sweep_chart(sweep: Sweep) -> str:
    """Score and error rate over t, each point with its interval (score: ±, rate: Wilson)."""
    width, height, left, bottom, top = 560, 260, 50, 30, 15
    plot_w, plot_h = width - left - 20, height - bottom - top
    ts = [row.threshold for row in sweep.rows]
    scores = [row.metrics.score for row in sweep.rows]
    low_t, high_t = min(ts), max(ts)
    finite = [s for s in scores if s is not None] + [0.0, 1.0]
    finite += [end for row in sweep.rows if row.score for end in (row.score.low, row.score.high)]
    low_y, high_y = min(finite), max(finite)

    def px(t: float) -> float:
        span = (high_t - low_t) or 1.0
        return left + plot_w * (t - low_t) / span

    def py(value: float) -> float:
        return top + plot_h * (high_y - value) / ((high_y - low_y) or 1.0)

    parts = [
        f'<svg class="sweep" width="{width}" '
        f'height="{height}" role="img" aria-label="Score and error rate over t">',
        f'<line x1="{left}" y1="{py(0):.1f}" x2="{left + plot_w}" y2="{py(0):.1f}" '
        f'stroke="#999" stroke-dasharray="4 3"><title>abstaining on everything scores 0'
        f"</title></line>",
    ]
    for name, colour, values, intervals in (
        ("score", SCORE_COLOUR, scores, [row.score for row in sweep.rows]),
        (
            "error rate",
            COLOURS["wrong"],
            [row.metrics.error_rate for row in sweep.rows],
            [row.error_rate for row in sweep.rows],
        ),
    ):
        points = [(px(t), py(v)) for t, v in zip(ts, values, strict=True) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(
                f'<polyline class="curve" points="{path}" fill="none" stroke="{colour}" '
                f'stroke-width="2"><title>{name}</title></polyline>'
            )
        for t, value, interval in zip(ts, values, intervals, strict=True):
            if value is None:
                continue
            if interval is not None:
                parts.append(
                    f'<line x1="{px(t):.1f}" y1="{py(interval.low):.1f}" x2="{px(t):.1f}" '
                    f'y2="{py(interval.high):.1f}" stroke="{colour}" stroke-width="1"/>'
                )
            parts.append(
                f'<circle cx="{px(t):.1f}" cy="{py(value):.1f}" r="4" fill="{colour}">'
                f"<title>{name} at t={format_number(t)}: {value:.3f}</title></circle>"
            )
    for t in ts:
        parts.append(
            f'<text x="{px(t):.1f}" y="{height - 8}" font-size="11" text-anchor="middle">'
            f"t={format_number(t)}</text>"
        )
    parts.append(
        f'<text x="{left + plot_w}" y="12" font-size="11" text-anchor="end">'
        f'<tspan fill="{SCORE_COLOUR}">● score</tspan>  <tspan fill="{COLOURS["wrong"]}">'
        "● error rate</tspan>  (bars: 95% intervals; dashed: abstain on all = 0)</text>"
    )
    for value in (low_y, 0.0, high_y):
        parts.append(
            f'<text x="{left - 6}" y="{py(value) + 4:.1f}" font-size="11" '
            f'text-anchor="end">{value:.2f}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _suite_section(result: SuiteResult) -> str:
    info, m = result.info, result.metrics
    verdict = result.verdict
    rows = [
        ("score", m.score),
        ("error rate", m.error_rate),
        ("accuracy", m.accuracy),
        ("abstention", m.abstention_rate),
        ("accuracy when answering", m.accuracy_given_attempted),
    ]
    deltas: dict[str, str] = {}
    if result.comparison is not None and result.comparison.status == "compared":
        for mc in result.comparison.metrics:
            if mc.scope == "suite":
                name = "score" if mc.metric == "score" else "error rate"
                deltas[name] = mc.describe()
    body = "".join(
        f"<tr><th>{name}</th><td>{format_rate(value)}</td><td>{_e(deltas.get(name, ''))}</td></tr>"
        for name, value in rows
    )
    reasons = "".join(f"<li>{_e(r)}</li>" for r in result.failures) if verdict == "failed" else ""
    counts = result.counts
    extra = f"<p>LLM {_e(judge_line(result))}.</p>" if info.judge_when is not None else ""
    undecided = undecided_line(result)
    if undecided is not None:
        extra += f"<p class='undecided'>{_e(undecided)}.</p>"
    stated = result.stated_confidence()
    if stated is not None:
        points = "".join(
            f"<tr><td>{format_number(p.threshold)}"
            f"{' (this suite’s t)' if p.threshold == info.threshold else ''}</td>"
            f"<td>{format_percent(p.coverage)}</td><td>{format_rate(p.error_rate)}</td>"
            f"<td>{format_rate(p.score)}</td></tr>"
            for p in curve_shown(stated, info.threshold)
        )
        extra += (
            f"<p>Stated {_e(stated_line(stated)).removeprefix('stated ')}.</p>"
            "<table class='curve'><tr>"
            "<th>abstaining below the stated confidence at t</th><th>answered</th>"
            f"<th>error rate</th><th>score</th></tr>{points}</table>"
        )
    return (
        f'<section class="suite"><h2>{_e(info.key)} <span class="'
        f'{_VERDICT_CLASS.get(verdict, "")}">{_e(verdict)}</span></h2>'
        f"<p>{_e(info.name)}: responder <code>{_e(info.responder)}</code>, "
        f"t = {format_number(info.threshold)}, {counts.total} replies: {counts.correct} correct, "
        f"{counts.wrong} wrong, {counts.abstained} abstained, {counts.error} without a reply.</p>"
        f"<table><tr><th>metric</th><th>now</th><th>against the baseline</th></tr>{body}</table>"
        + extra
        + (f"<ul class='reasons'>{reasons}</ul>" if reasons else "")
        + "</section>"
    )


def _sweep_section(sweep: Sweep) -> str:
    rows = "".join(
        f"<tr><td>{format_number(r.threshold)}</td><td>{format_rate(r.answered_rate)}</td>"
        f"<td>{format_rate(r.metrics.accuracy_given_attempted)}</td><td>{format_rate(r.metrics.error_rate)}"
        f"</td><td>{format_rate(r.metrics.abstention_rate)}</td><td>{format_rate(r.metrics.score)}</td></tr>"
        for r in sweep.rows
    )
    problems = [f for f in sweep.findings if f.failed]
    if problems:
        items = "".join(f"<li>{_e(f.check)}: {_e(f.message)}</li>" for f in problems)
        audit = f"<ul class='fail'>{items}</ul>"
    elif not sweep.testable:
        audit = f"<p>Calibration audit: {_e(UNTESTABLE)}.</p>"
    else:
        audit = "<p class='pass'>Calibration audit: the model follows the stated t.</p>"
    return (
        f'<section class="sweep-section"><h2>{_e(sweep.key)}: threshold sweep</h2>'
        f"{sweep_chart(sweep)}<table><tr><th>t</th><th>answered</th><th>accuracy when answering"
        f"</th><th>error rate</th><th>abstention</th><th>score</th></tr>{rows}</table>{audit}"
        "</section>"
    )


def _question_rows(results: Sequence[SuiteResult]) -> str:
    out = []
    for result in results:
        for record in result.questions:
            expected = "I don't know" if record.idk else ", ".join(map(str, record.expected))
            if record.regex:
                expected = f"{expected} /{record.regex}/".strip(", ")
            replies = "".join(
                f'<div class="reply {g}">{_e(g)}: {_e(reply if reply is not None else error)}</div>'
                for g, reply, error in zip(
                    record.grades, record.replies, record.errors, strict=True
                )
            )
            out.append(
                f'<tr class="{record.verdict}"><td>{_e(result.info.key)}</td><td>{_e(record.id)}'
                f"</td><td>{_e(record.question)}</td><td>{_e(expected)}</td>"
                f"<td>{_e(record.verdict)}</td><td>{replies}</td></tr>"
            )
    return "".join(out)


def _models_section(results: Sequence[SuiteResult]) -> str:
    board = leaderboard(results)
    if not board:
        return ""
    rows = "".join(
        f"<tr><td>{_e(name)}</td><td>{format_rate(m.score)}</td><td>{by_score}</td>"
        f"<td>{format_rate(m.accuracy)}</td><td>{by_accuracy}</td><td>{format_rate(m.error_rate)}</td>"
        f"<td>{format_rate(m.abstention_rate)}</td></tr>"
        for name, m, by_score, by_accuracy in board
    )
    return (
        "<h2>Models side by side</h2><p>Best penalised score first; plain accuracy may rank "
        "them differently.</p><table id='models'><tr><th>model</th><th>score</th><th>rank</th>"
        "<th>accuracy</th><th>rank</th><th>error rate</th><th>abstention</th></tr>"
        f"{rows}</table>"
    )


def render_html(results: Sequence[SuiteResult], sweeps: Sequence[Sweep], title: str) -> str:
    """The whole report as one HTML document."""
    legend = "".join(
        f'<span><i class="swatch" style="background:{c}"></i>{g}</span>' for g, c in COLOURS.items()
    )
    total = sum(len(r.questions) for r in results)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{_e(title)}</h1><h2>Outcomes per suite</h2><div class='legend'>{legend}</div>"
        f"{outcome_bars(results)}{_models_section(results)}"
        + "".join(_suite_section(r) for r in results)
        + "".join(_sweep_section(s) for s in sweeps)
        + "<h2>Questions</h2><input id='filter' type='search' "
        "placeholder='Filter: suite, id, question, grade or reply'> "
        f"<span id='shown'>{total} of {total}</span>"
        "<table id='questions'><thead><tr><th>suite</th><th>id</th><th>question</th>"
        "<th>expected</th><th>grade</th><th>replies</th></tr></thead>"
        f"<tbody>{_question_rows(results)}</tbody></table>"
        f"<script>{_SCRIPT}</script></body></html>\n"
    )
