"""The HTML report: one self-contained file, no network fetches, readable at any width (pure).

At the top the run's verdict and why, when it ran, who answered and where; then a bar of
outcome shares per suite, the questions that changed since the baseline (old and new
reply), per suite the metrics with baseline deltas, per threshold sweep the score and
error-rate curves over t, and a table of every question with its replies and grades.
The layout is CSS only (bars are flex boxes, the sweep chart an SVG with a viewBox), so
it scales with the window and needs no JavaScript; a script only adds the filter box.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from ..records import GRADES, MetricComparison, QuestionChange
from ..results.suites import SuiteResult, leaderboard
from ..results.sweep import Sweep
from ..results.verdict import Verdict
from ..shown import format_number, format_percent, format_rate
from .wording import UNTESTABLE, curve_shown, judge_line, stated_line, undecided_line

#: Each grade's colour: white text on each has a contrast of at least 4.5 (WCAG AA).
COLOURS = {"correct": "#2e7d32", "wrong": "#c62828", "abstained": "#1565c0", "error": "#757575"}
SCORE_COLOUR = "#6a1b9a"
#: A change since the baseline is coloured as the grade it moved to.
_CHANGE_GRADE = {
    "newly wrong": "wrong",
    "newly abstaining": "abstained",
    "newly correct": "correct",
}
#: Suites named in the one-line verdict before "and N more".
_NAMED = 3

_STYLE = (
    ":root{"
    + "".join(f"--{grade}:{colour};" for grade, colour in COLOURS.items())
    + """--line:#d0d7de;--muted:#57606a}
*{box-sizing:border-box}
body{font-family:system-ui,"Segoe UI",sans-serif;margin:0;color:#1f2328;background:#f6f8fa;
line-height:1.45;font-size:15px}
main{max-width:1760px;margin:0 auto;padding:1.25rem clamp(.75rem,3vw,2.5rem) 3rem}
h1{font-size:1.3rem;margin:0 0 .75rem}h2{font-size:1.15rem;margin:2rem 0 .6rem}
h3{font-size:1.05rem;margin:0 0 .5rem;overflow-wrap:anywhere}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:1rem 1.25rem;
min-width:0}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,34rem),1fr));gap:1rem}
.verdict{border-left:.6rem solid var(--error)}.verdict.passed{border-left-color:var(--correct)}
.verdict.failed{border-left-color:var(--wrong)}
.status{font-size:1.6rem;font-weight:700;margin:0}.why{margin:.2rem 0 .8rem;font-size:1.05rem}
.passed .status,.pass{color:var(--correct)}.failed .status,.fail{color:var(--wrong)}
dl.run{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.15rem 1rem;margin:0}
dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
.legend{margin:.3rem 0 .6rem}.legend .grade{margin-right:.4rem}
#outcomes .row{display:grid;grid-template-columns:fit-content(35%) minmax(0,1fr) 6rem;
gap:.75rem;align-items:center;margin:.45rem 0}
.label{overflow-wrap:anywhere;font-size:.9rem}
.bar{display:flex;height:1.7rem;border-radius:4px;overflow:hidden;background:#eaeef2}
.seg{flex:1 1 0;min-width:0;color:#fff;font-size:.8rem;font-weight:600;text-align:center;
line-height:1.7rem;overflow:hidden;white-space:nowrap}
.grade{display:inline-block;color:#fff;border-radius:1em;padding:0 .6em;font-size:.8rem;
font-weight:600;white-space:nowrap;background:var(--error)}
.suite-verdict{font-size:.85rem;font-weight:600;text-align:right}
"""
    + "".join(f".seg.{g},.grade.{g}{{background:var(--{g})}}\n" for g in COLOURS)
    + "".join(f"tr.{g}>td:first-child{{box-shadow:inset 4px 0 var(--{g})}}\n" for g in COLOURS)
    + """table{border-collapse:collapse;width:100%;background:#fff;margin:.5rem 0}
td,th{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:left;
vertical-align:top;overflow-wrap:break-word}th{background:#f6f8fa;font-weight:600}
table.fixed{table-layout:fixed}.wide{overflow-x:auto}
.reply{white-space:pre-wrap;margin:.15rem 0;max-height:14em;overflow-y:auto}
.reply .grade{margin-right:.4rem}.was{color:var(--muted);font-size:.8rem;margin-right:.4rem}
.regressed{color:var(--wrong);font-weight:600}.improved{color:var(--correct);font-weight:600}
.notsig,.key{color:var(--muted)}.key{font-size:.85rem}
svg.sweep{display:block;width:100%;height:auto}
.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,30rem),1fr));
gap:0 1.5rem;align-items:start}
#filter{width:min(30em,100%);padding:.3em;margin:.5em 0}
@media (max-width:640px){#outcomes .row{grid-template-columns:minmax(0,1fr) auto}
#outcomes .label{grid-column:1/-1;margin-bottom:-.4rem}.card{padding:.75rem}}
"""
)

# The page works without it: it only reveals and runs the filter box.
_SCRIPT = """
var filter = document.getElementById('filter');
filter.hidden = false;
filter.addEventListener('input', function (event) {
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


def _grade(grade: str, text: str | None = None) -> str:
    """A grade as a coloured label: the colour and the word, never the colour alone."""
    return f'<span class="grade {_e(grade)}">{_e(text or grade)}</span>'


def _verdict_word(verdict: str) -> str:
    css = {"passed": "pass", "failed": "fail"}.get(verdict, "")
    return f'<span class="{css}">{_e(verdict)}</span>'


def _named(keys: Sequence[str]) -> str:
    more = f" and {len(keys) - _NAMED} more" if len(keys) > _NAMED else ""
    return ", ".join(keys[:_NAMED]) + more


def verdict_reason(
    verdict: Verdict, results: Sequence[SuiteResult], problems: Sequence[str] = ()
) -> str:
    """Why the run passed or failed, in one line."""
    reasons: list[str] = []
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        reasons.append(f"the run itself failed: {problems[0]}{more}")
    if verdict.stopped:
        reasons.append("every reply failed the same way, so the run stopped asking")
    if verdict.failed_gates:
        gates = [f"{key} ({why[0]})" if why else key for key, why in verdict.failed_gates]
        reasons.append(f"{len(gates)} of {len(results)} suites failed their gate: {_named(gates)}")
    if verdict.failed_audits:
        reasons.append(f"the calibration audit failed: {_named(verdict.failed_audits)}")
    if verdict.disagreements:
        reasons.append(
            f"the judge disagrees with the person on {len(verdict.disagreements)} calibration cases"
        )
    if verdict.unexcused_errors:
        reasons.append(
            f"replies missing beyond the error budget: {_named(verdict.unexcused_errors)}"
        )
    if not verdict.complete:
        reasons.append("the run stopped early (-x or --maxfail): nothing was gated")
    if reasons:
        return "; ".join(reasons)
    gated = sum(result.gated for result in results)
    if not gated:
        return (
            "no suite has a gate (min_score, max_error_rate, max_errors or a baseline): "
            "nothing could fail"
        )
    line = f"every gate held: {gated} of {len(results)} suites gated"
    if verdict.forgiven:
        line += f"; {verdict.forgiven} questions without a reply, within the error budgets"
    return line


def _responder(results: Sequence[SuiteResult], run: Mapping[str, Any]) -> str:
    """The model(s) asked, or the team's own responder (its name) when no model was."""
    models = [str(m) for m in run.get("models") or ([run["model"]] if run.get("model") else [])]
    if models:
        return ", ".join(models)
    names = sorted({result.info.responder for result in results})
    return f"the team's own responder ({', '.join(names)})" if names else "none"


def _header(
    results: Sequence[SuiteResult],
    verdict: Verdict,
    run: Mapping[str, Any],
    created: datetime,
    problems: Sequence[str],
) -> str:
    status = verdict.status(run_failed=bool(problems))
    when = created.astimezone(timezone.utc)
    # The JSON report's run description: its endpoint is already without credentials.
    endpoint = run.get("endpoint")
    where = f"<code>{_e(endpoint)}</code>" if endpoint else "— (answered in-process)"
    questions = sum(len(result.questions) for result in results)
    return (
        f'<section class="card verdict {status}" id="verdict">'
        f'<p class="status">{"✔" if status == "passed" else "✘"} {_e(status.upper())}</p>'
        f'<p class="why">{_e(verdict_reason(verdict, results, problems))}</p><dl class="run">'
        f'<dt>run</dt><dd><time datetime="{when.isoformat(timespec="seconds")}">'
        f"{when:%Y-%m-%d %H:%M:%S} UTC</time></dd>"
        f"<dt>responder</dt><dd>{_e(_responder(results, run))}</dd>"
        f"<dt>endpoint</dt><dd>{where}</dd>"
        f"<dt>asked</dt><dd>{len(results)} suites, {questions} questions</dd></dl></section>"
    )


def outcome_bars(results: Sequence[SuiteResult]) -> str:
    """One bar per suite: the shares of correct, wrong, abstained and error, as flex boxes
    sized by their counts, so the proportions hold at any width."""
    rows = []
    for result in results:
        counts = result.counts
        shares = [(grade, getattr(counts, grade)) for grade in GRADES]
        spoken = ", ".join(f"{n} {grade}" for grade, n in shares if n)
        segments = "".join(
            f'<span class="seg {grade}" style="flex-grow:{n}" '
            f'title="{grade}: {n} of {counts.total}">{n}</span>'
            for grade, n in shares
            if n
        )
        rows.append(
            f'<div class="row"><div class="label">{_e(result.info.key)}</div>'
            f'<div class="bar" role="img" aria-label="{_e(result.info.key)}: {spoken}">'
            f'{segments}</div><div class="suite-verdict">{_verdict_word(result.verdict)}'
            "</div></div>"
        )
    return f'<div id="outcomes">{"".join(rows)}</div>'


def sweep_chart(sweep: Sweep) -> str:
    """Score and error rate over t, each point with its interval (score: ±, rate: Wilson)."""
    width, height, left, bottom, top = 560, 260, 50, 30, 22
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
        f'<svg class="sweep" viewBox="0 0 {width} {height}" width="100%" role="img" '
        'aria-label="Score and error rate over t">',
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


def _delta(mc: MetricComparison) -> str:
    """Baseline → now, and whether the difference is significant."""
    word, css = "not significant", "notsig"
    if mc.regressed:
        word, css = "regressed", "regressed"
    elif mc.improved:
        word, css = "improved", "improved"
    return (
        f"{mc.baseline:.3f} → {mc.now:.3f} (Δ {mc.delta:+.3f}, p={mc.p_value:.2g}) "
        f'<span class="{css}">{word}</span>'
    )


def _stated_section(result: SuiteResult) -> str:
    stated = result.stated_confidence()
    if stated is None:
        return ""
    threshold = result.info.threshold
    points = "".join(
        f"<tr><td>{format_number(p.threshold)}"
        f"{' (this suite’s t)' if p.threshold == threshold else ''}</td>"
        f"<td>{format_percent(p.coverage)}</td><td>{format_rate(p.error_rate)}</td>"
        f"<td>{format_rate(p.score)}</td></tr>"
        for p in curve_shown(stated, threshold)
    )
    return (
        f"<p>Stated {_e(stated_line(stated)).removeprefix('stated ')}.</p>"
        "<table class='curve'><tr>"
        "<th>abstaining below the stated confidence at t</th><th>answered</th>"
        f"<th>error rate</th><th>score</th></tr>{points}</table>"
    )


def _suite_section(result: SuiteResult) -> str:
    info, m, counts = result.info, result.metrics, result.counts
    rows = [
        ("score", m.score),
        ("error rate", m.error_rate),
        ("accuracy", m.accuracy),
        ("abstention", m.abstention_rate),
        ("accuracy when answering", m.accuracy_given_attempted),
    ]
    deltas: dict[str, str] = {}
    comparison = result.comparison
    if comparison is not None and comparison.status == "compared":
        for mc in comparison.metrics:
            if mc.scope == "suite":
                deltas["score" if mc.metric == "score" else "error rate"] = _delta(mc)
    body = "".join(
        f"<tr><th>{name}</th><td>{format_rate(value)}</td><td>{deltas.get(name, '')}</td></tr>"
        for name, value in rows
    )
    extra = f"<p>LLM {_e(judge_line(result))}.</p>" if info.judge_when is not None else ""
    undecided = undecided_line(result)
    if undecided is not None:
        extra += f"<p class='undecided'>{_e(undecided)}.</p>"
    extra += _stated_section(result)
    if comparison is not None and comparison.status != "compared" and comparison.message:
        extra += f"<p>Baseline: {_e(comparison.message)}</p>"
    elif comparison is not None and comparison.untestable:
        extra += "<p>Baseline: too few paired questions for any change to be significant.</p>"
    reasons = result.failures if result.verdict == "failed" else []
    if reasons:
        extra += "<ul class='reasons fail'>" + "".join(f"<li>{_e(r)}</li>" for r in reasons)
        extra += "</ul>"
    return (
        f'<section class="card suite"><h3>{_e(info.key)} {_verdict_word(result.verdict)}</h3>'
        f"<p>{_e(info.name)}: responder <code>{_e(info.responder)}</code>, "
        f"t = {format_number(info.threshold)}, {counts.total} replies: {counts.correct} correct, "
        f"{counts.wrong} wrong, {counts.abstained} abstained, {counts.error} without a reply.</p>"
        f"<table><tr><th>metric</th><th>now</th><th>against the baseline</th></tr>{body}</table>"
        f"{extra}</section>"
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
        f'<section class="card sweep-section"><h3>{_e(sweep.key)}: threshold sweep</h3>'
        f"<div class='pair'>{sweep_chart(sweep)}<table><tr><th>t</th><th>answered</th>"
        "<th>accuracy when answering</th><th>error rate</th><th>abstention</th><th>score</th>"
        f"</tr>{rows}</table></div>{audit}</section>"
    )


def _change_row(result: SuiteResult, change: QuestionChange, question: str) -> str:
    replies = "".join(
        f'<div class="reply"><span class="was">{label}</span>{_e(text)}</div>'
        for label, text in (("baseline", change.before_reply), ("now", change.after_reply))
        if text is not None
    )
    before_after = change.describe().split(": ", 1)[1]
    return (
        f'<tr class="{_CHANGE_GRADE[change.kind]}"><td><span class="key">{_e(result.info.key)}'
        f"</span> {_e(change.id)}<br>{_e(question)}</td>"
        f"<td>{_grade(_CHANGE_GRADE[change.kind], change.kind)}<br>{_e(before_after)}</td>"
        f"<td>{replies}</td></tr>"
    )


def _changes_section(results: Sequence[SuiteResult]) -> str:
    """The questions whose grade changed since the baseline, with the old and new reply."""
    compared = [r for r in results if r.comparison and r.comparison.status == "compared"]
    if not compared:
        return ""
    rows = []
    for result in compared:
        questions = {record.id: record.question for record in result.questions}
        assert result.comparison is not None
        for kind in _CHANGE_GRADE:
            for change in result.comparison.changed(kind):
                rows.append(_change_row(result, change, questions.get(change.id, "")))
    if not rows:
        return "<h2>Changed since the baseline</h2><p>No question changed its grade.</p>"
    return (
        f"<h2>Changed since the baseline ({len(rows)})</h2><div class='wide'>"
        "<table class='fixed' id='changes'><colgroup><col style='width:34%'>"
        "<col style='width:22%'><col></colgroup><thead><tr><th>question</th><th>change</th>"
        "<th>replies: baseline → now</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _question_rows(results: Sequence[SuiteResult]) -> str:
    out = []
    for result in results:
        for record in result.questions:
            expected = "I don't know" if record.idk else ", ".join(map(str, record.expected))
            if record.regex:
                expected = f"{expected} /{record.regex}/".strip(", ")
            replies = "".join(
                f'<div class="reply">{_grade(g)}{_e(reply if reply is not None else error)}</div>'
                for g, reply, error in zip(
                    record.grades, record.replies, record.errors, strict=True
                )
            )
            out.append(
                f'<tr class="{record.verdict}"><td><span class="key">{_e(result.info.key)}'
                f"</span> {_e(record.id)}<br>{_e(record.question)}</td><td>{_e(expected)}</td>"
                f"<td>{_grade(record.verdict)}</td><td>{replies}</td></tr>"
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
        "them differently.</p><div class='wide'><table id='models'><tr><th>model</th>"
        "<th>score</th><th>rank</th><th>accuracy</th><th>rank</th><th>error rate</th>"
        f"<th>abstention</th></tr>{rows}</table></div>"
    )


def render_html(
    results: Sequence[SuiteResult],
    sweeps: Sequence[Sweep],
    title: str,
    *,
    verdict: Verdict,
    run: Mapping[str, Any],
    created: datetime,
    problems: Sequence[str] = (),
) -> str:
    """The whole report as one HTML document; `run` is the JSON report's run description
    (model, endpoint), `problems` what went wrong in the run itself so far."""
    legend = "".join(_grade(grade) for grade in COLOURS)
    total = sum(len(r.questions) for r in results)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body><main>"
        f"<h1>{_e(title)}</h1>{_header(results, verdict, run, created, problems)}"
        f"<h2>Outcomes per suite</h2><div class='card'><div class='legend'>{legend}</div>"
        f"{outcome_bars(results)}</div>{_changes_section(results)}{_models_section(results)}"
        "<h2>Suites</h2><div class='grid suites'>"
        + "".join(_suite_section(r) for r in results)
        + "</div>"
        + (
            "<h2>Threshold sweeps</h2><div class='grid sweeps'>"
            + "".join(_sweep_section(s) for s in sweeps)
            + "</div>"
            if sweeps
            else ""
        )
        + "<h2>Questions</h2><input id='filter' type='search' hidden "
        "placeholder='Filter: suite, id, question, grade or reply'> "
        f"<span id='shown'>{total} of {total}</span><div class='wide'>"
        "<table id='questions' class='fixed'><colgroup><col style='width:32%'>"
        "<col style='width:16%'><col style='width:8.5em'><col></colgroup><thead><tr>"
        "<th>question</th><th>expected</th><th>grade</th><th>replies</th></tr></thead>"
        f"<tbody>{_question_rows(results)}</tbody></table></div>"
        f"<script>{_SCRIPT}</script></main></body></html>\n"
    )
